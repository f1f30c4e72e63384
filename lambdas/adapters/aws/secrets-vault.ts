import { GetSecretValueCommand, SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SigningKey, SigningKeySet, Vault } from '../../core/ports.js';
import { parseSigningKey } from '../../core/tokens/generate-key.js';

export type SecretsVaultOptions =
  | { readonly secretId: string; readonly client: SecretsManagerClient; readonly clientConfig?: never }
  | { readonly secretId: string; readonly clientConfig?: SecretsManagerClientConfig; readonly client?: never };

/**
 * The Vault port over Secrets Manager: AWSCURRENT signs; AWSPENDING and AWSPREVIOUS, when present, are published in JWKS
 * so tokens stay verifiable across a rotation.
 */
export class SecretsVault implements Vault {
  readonly #secretId: string;
  readonly #client: SecretsManagerClient;

  constructor(options: SecretsVaultOptions) {
    this.#secretId = options.secretId;
    this.#client = options.client ?? new SecretsManagerClient(options.clientConfig ?? {});
  }

  async getSigningKeys(): Promise<SigningKeySet> {
    const [current, pending, previous] = await Promise.all([this.#read('AWSCURRENT'), this.#read('AWSPENDING'), this.#read('AWSPREVIOUS')]);
    if (!current) throw new Error('The signing-key secret has no usable AWSCURRENT version');
    return { current, published: [pending, previous].filter((k): k is SigningKey => k !== undefined) };
  }

  async #read(stage: string): Promise<SigningKey | undefined> {
    try {
      const out = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId, VersionStage: stage }));
      return out.SecretString === undefined ? undefined : parseSigningKey(out.SecretString);
    } catch (error) {
      // A stage that does not exist (no rotation under way) is normal, and so is the placeholder before seeding.
      if (stage !== 'AWSCURRENT' && (error as Error).name === 'ResourceNotFoundException') return undefined;
      if (error instanceof SyntaxError || (error as Error).message === 'not a Gatehouse signing key') return undefined;
      throw error;
    }
  }
}
