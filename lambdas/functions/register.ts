import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { registrationQuotaFromEnv } from '../adapters/aws/dynamo-registration-quota.js';
import { softwareConsumersFromEnv } from '../adapters/aws/dynamo-software-consumers.js';
import { awsServices } from '../adapters/aws/services.js';
import { httpsKeySets } from '../adapters/net/https-key-sets.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { createRegisterHandler } from '../handlers/register.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRegisterHandler(
  awsServices('register', { stores: dynamoStoresFromEnv, workflow: sfnWorkflowFromEnv, clientSecrets: clientSecretsFromEnv }),
  { registrationQuota: registrationQuotaFromEnv(), softwareConsumers: softwareConsumersFromEnv(), remoteKeySets: httpsKeySets() },
);
