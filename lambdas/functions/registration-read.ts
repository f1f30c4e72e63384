import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { createRegistrationReadHandler } from '../handlers/registration-read.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRegistrationReadHandler(awsServices('registration-read', { stores: dynamoStoresFromEnv, clientSecrets: clientSecretsFromEnv }));
