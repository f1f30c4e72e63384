import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PublicKeyStore } from '../../core/ports.js';

/**
 * The PublicKeyStore port over a Secrets Manager secret of its own: the public halves of the signing keys, readable by
 * functions that hold no grant on the private key secret. A value that is not yet a key set (the placeholder the stack
 * creates the secret with) reads as that text and is refused by the parser, as an unpublished set.
 */
export class SecretsManagerPublicKeyStore implements PublicKeyStore {
  readonly #secretId: string;
  readonly #client: SecretsManagerClient;

  constructor(secretId: string, client: SecretsManagerClient) {
    this.#secretId = secretId;
    this.#client = client;
  }

  async read(): Promise<string | undefined> {
    const out = await this.#client.send(new GetSecretValueCommand({ SecretId: this.#secretId }));
    return out.SecretString;
  }

  async write(text: string): Promise<void> {
    await this.#client.send(new PutSecretValueCommand({ SecretId: this.#secretId, SecretString: text }));
  }
}
