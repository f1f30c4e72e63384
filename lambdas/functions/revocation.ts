import { getConsumer, claimOnce } from '../adapters/aws/dynamo-operations.js';
import { dynamoRegistryFromEnv } from '../adapters/aws/dynamo-registry.js';
import { publicKeysVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { createRevocationHandler } from '../handlers/revocation.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRevocationHandler(awsServices({ registry: dynamoRegistryFromEnv({ getConsumer, claimOnce }), vault: publicKeysVaultFromEnv }));
