import { publicKeysVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { createDiscoveryHandler } from '../handlers/discovery.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createDiscoveryHandler(awsServices('discovery', { vault: publicKeysVaultFromEnv }));
