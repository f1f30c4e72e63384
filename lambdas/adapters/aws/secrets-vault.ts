import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { PublicSigningKeySet, SigningKeySet, Vault } from '../../core/ports.js';
import { PublishedKeysVault } from '../../core/tokens/public-keys.js';
import { StagedSecretVault } from '../../core/tokens/staged-vault.js';
import { SecretsManagerPublicKeyStore } from './secrets-public-keys.js';
import { SecretsManagerStagedSecret } from './secrets-staged-secret.js';
import { abortWithCaller } from './caller-abort.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';

export type SecretsVaultOptions =
  | { readonly secretId: string; readonly client: SecretsManagerClient; readonly clientConfig?: never }
  | { readonly secretId: string; readonly clientConfig?: SecretsManagerClientConfig; readonly client?: never };

/**
 * The Vault port over Secrets Manager: AWSCURRENT signs; AWSPENDING and AWSPREVIOUS, when present, are published in JWKS
 * so tokens stay verifiable across a rotation.
 */
export class SecretsVault implements Vault {
  readonly #vault: StagedSecretVault;

  constructor(options: SecretsVaultOptions) {
    const client = options.client ?? abortWithCaller(new SecretsManagerClient(options.clientConfig ?? {}));
    this.#vault = new StagedSecretVault(new SecretsManagerStagedSecret(options.secretId, client));
  }

  getSigningKeys(): Promise<SigningKeySet> {
    return this.#vault.getSigningKeys();
  }

  getPublicKeys(): Promise<PublicSigningKeySet> {
    return this.#vault.getPublicKeys();
  }
}

/** The signing-key vault of a function with `signing-key:read`: the secret the stack names, with the request-path client settings. */
export function secretsVaultFromEnv(): SecretsVault {
  return new SecretsVault({ secretId: process.env[ENV.signingKeySecretId] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG });
}

/**
 * The vault of a function with `signing-key:read-public`: the public-key secret the stack names, read with the
 * request-path client settings. It has no way to a private key.
 */
export function publicKeysVaultFromEnv(): PublishedKeysVault {
  const client = abortWithCaller(new SecretsManagerClient(REQUEST_PATH_CLIENT_CONFIG));
  return new PublishedKeysVault(new SecretsManagerPublicKeyStore(process.env[ENV.publicKeysSecretId] ?? '', client));
}
