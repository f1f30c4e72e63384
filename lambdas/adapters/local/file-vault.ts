import { randomUUID } from 'node:crypto';
import type { SigningKeySet, Vault } from '../../core/ports.js';
import { generateSigningKey } from '../../core/tokens/generate-key.js';
import { StagedSecretVault } from '../../core/tokens/staged-vault.js';
import { FileStagedSecret } from './file-staged-secret.js';

/**
 * The Vault port for local mode: signing keys in a staged secret file (mode 0600) under the data directory, or in
 * memory. Seeded with a fresh ES256 key on first use, as the stack's custom resource does in AWS; rotated by the same
 * rotation steps as Secrets Manager (`npm run rotate -- signing-key`).
 */
export class FileVault implements Vault {
  readonly secret: FileStagedSecret;
  readonly #vault: StagedSecretVault;
  #seeded = false;

  /** @param path file to keep keys in; undefined keeps them in memory (tests). */
  constructor(path?: string) {
    this.secret = new FileStagedSecret(path);
    this.#vault = new StagedSecretVault(this.secret);
  }

  async getSigningKeys(): Promise<SigningKeySet> {
    if (!this.#seeded) {
      await this.secret.seedCurrent(randomUUID(), JSON.stringify(await generateSigningKey()));
      this.#seeded = true;
    }
    return this.#vault.getSigningKeys();
  }
}
