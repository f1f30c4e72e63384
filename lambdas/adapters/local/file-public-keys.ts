import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PublicKeyStore } from '../../core/ports.js';
import { asStorageFault } from './storage-fault.js';

/**
 * The PublicKeyStore port for local mode: the public halves of the signing keys in their own file (kept in memory when
 * no path is given), apart from the private key file, as the stack keeps them in a secret of their own.
 */
export class FilePublicKeyStore implements PublicKeyStore {
  readonly #path: string | undefined;
  #memory: string | undefined;

  constructor(path?: string) {
    this.#path = path;
  }

  async read(): Promise<string | undefined> {
    if (!this.#path) return this.#memory;
    return existsSync(this.#path) ? readFileSync(this.#path, 'utf8') : undefined;
  }

  async write(text: string): Promise<void> {
    if (!this.#path) {
      this.#memory = text;
      return;
    }
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      const tmp = `${this.#path}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, this.#path);
    } catch (error) {
      throw asStorageFault(error);
    }
  }
}
