import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { httpsKeySets } from '../adapters/net/https-key-sets.js';
import { createTokenHandler } from '../handlers/token.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createTokenHandler(awsServices('token', { stores: dynamoStoresFromEnv, vault: secretsVaultFromEnv }), { remoteKeySets: httpsKeySets() });
