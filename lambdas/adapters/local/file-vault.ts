import { randomUUID } from 'node:crypto';
import type { PublicSigningKeySet, SigningKeySet, Vault } from '../../core/ports.js';
import { generateSigningKey } from '../../core/tokens/generate-key.js';
import { PublishedKeysVault, publishPublicKeys } from '../../core/tokens/public-keys.js';
import { StagedSecretVault } from '../../core/tokens/staged-vault.js';
import { FilePublicKeyStore } from './file-public-keys.js';
import { FileStagedSecret } from './file-staged-secret.js';

/** The public-key file kept beside a private-key file: `signing-keys.json` → `signing-keys.public.json`. */
export function publicKeysPath(path: string): string {
  return path.replace(/(\.json)?$/, '.public.json');
}

/**
 * The Vault port for local mode: signing keys in a staged secret file (mode 0600) under the data directory, or in
 * memory, and their public halves in a file of their own, which is all the functions that only verify read. Seeded with
 * a fresh ES256 key on first use, as the stack's custom resource does in AWS; rotated by the same rotation steps as
 * Secrets Manager (`npm run rotate -- signing-key`), which republish the public halves.
 */
export class FileVault implements Vault {
  readonly secret: FileStagedSecret;
  readonly publicKeys: FilePublicKeyStore;
  readonly #vault: StagedSecretVault;
  readonly #published: PublishedKeysVault;
  #seeded = false;

  /** @param path file to keep keys in; undefined keeps them in memory (tests). */
  constructor(path?: string) {
    this.secret = new FileStagedSecret(path);
    this.publicKeys = new FilePublicKeyStore(path && publicKeysPath(path));
    this.#vault = new StagedSecretVault(this.secret);
    this.#published = new PublishedKeysVault(this.publicKeys);
  }

  async getSigningKeys(): Promise<SigningKeySet> {
    await this.#seed();
    return this.#vault.getSigningKeys();
  }

  /** Read from the public file only, as a verify-only function in AWS reads the public secret. */
  async getPublicKeys(): Promise<PublicSigningKeySet> {
    await this.#seed();
    return this.#published.getPublicKeys();
  }

  /** The first key, and its public halves (also for a data directory from before they had a file of their own). */
  async #seed(): Promise<void> {
    if (this.#seeded) return;
    const fresh = await this.secret.seedCurrent(randomUUID(), JSON.stringify(await generateSigningKey()));
    if (fresh || (await this.publicKeys.read()) === undefined) await publishPublicKeys(this.secret, this.publicKeys);
    this.#seeded = true;
  }
}
