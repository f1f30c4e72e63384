import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { createRevocationListHandler } from '../handlers/revocation-list.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRevocationListHandler(awsServices('revocation-list', { stores: dynamoStoresFromEnv, vault: secretsVaultFromEnv }));
