import { getConsumer, recordScopes, recordUse, claimOnce } from '../adapters/aws/dynamo-operations.js';
import { dynamoRegistryFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { createTokenHandler } from '../handlers/token.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createTokenHandler(
  awsServices({ registry: dynamoRegistryFromEnv({ getConsumer, recordScopes, recordUse, claimOnce }), vault: secretsVaultFromEnv }),
);
