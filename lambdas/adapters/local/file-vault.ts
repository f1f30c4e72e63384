import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SigningKey, SigningKeySet, Vault } from '../../core/ports.js';
import { generateSigningKey, parseSigningKey } from '../../core/tokens/generate-key.js';

interface StoredKeys {
  readonly current: SigningKey;
  readonly published: readonly SigningKey[];
}

/**
 * The Vault port for local mode: signing keys in a JSON file (mode 0600) under the data directory, or in memory.
 * Created with a fresh ES256 key on first use, as the stack's custom resource does in AWS.
 */
export class FileVault implements Vault {
  readonly #path: string | undefined;
  #keys: StoredKeys | undefined;

  /** @param path file to keep keys in; undefined keeps them in memory (tests). */
  constructor(path?: string) {
    this.#path = path;
  }

  async getSigningKeys(): Promise<SigningKeySet> {
    this.#keys ??= await this.#loadOrCreate();
    return this.#keys;
  }

  async #loadOrCreate(): Promise<StoredKeys> {
    if (this.#path && existsSync(this.#path)) {
      const stored = JSON.parse(readFileSync(this.#path, 'utf8')) as { current: unknown; published?: unknown[] };
      return {
        current: parseSigningKey(JSON.stringify(stored.current)),
        published: (stored.published ?? []).map((k) => parseSigningKey(JSON.stringify(k))),
      };
    }
    const keys: StoredKeys = { current: await generateSigningKey(), published: [] };
    if (this.#path) {
      mkdirSync(dirname(this.#path), { recursive: true });
      writeFileSync(this.#path, JSON.stringify(keys, null, 2), { mode: 0o600 });
    }
    return keys;
  }
}
