import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { publicKeysVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { httpsKeySets } from '../adapters/net/https-key-sets.js';
import { createIntrospectionHandler } from '../handlers/introspection.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createIntrospectionHandler(awsServices('introspection', { stores: dynamoStoresFromEnv, vault: publicKeysVaultFromEnv }), {
  remoteKeySets: httpsKeySets(),
});
