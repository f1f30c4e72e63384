import { ServiceError } from '../../core/errors.js';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientSecretStore, ClientSecretValue } from '../../core/ports.js';
import { FileStagedSecret } from './file-staged-secret.js';

const FILE = /^(gh_[A-Za-z0-9_-]+)\.json$/;

function checkId(clientId: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(clientId)) throw new Error('Invalid client id');
}

/**
 * Local mode's client secrets: one staged secret file (mode 0600) per consumer under `dir`, kept in memory when no
 * directory is given. Rotation periods are not stored: local mode's schedule reads them from the policy.
 */
export class FileClientSecrets implements ClientSecretStore {
  readonly #dir: string | undefined;
  readonly #memory = new Map<string, FileStagedSecret>();
  #rotator: ((clientId: string) => Promise<unknown>) | undefined;

  constructor(dir?: string) {
    this.#dir = dir;
  }

  /** What rotateNow runs: the four rotation steps, wired by the control plane once the services exist. */
  setRotator(rotator: (clientId: string) => Promise<unknown>): void {
    this.#rotator = rotator;
  }

  async rotateNow(clientId: string): Promise<void> {
    if (!this.#rotator) throw new Error('Local client-secret rotation is not wired to a control plane');
    if (this.clientIds().includes(clientId) === false) throw new Error(`No client secret for ${clientId}`);
    await this.#rotator(clientId);
  }

  async create(value: ClientSecretValue): Promise<void> {
    const seeded = await this.staged(value.clientId).seedCurrent(randomUUID(), JSON.stringify(value));
    if (!seeded) throw new ServiceError('conflict', `A client secret for ${value.clientId} is already stored.`);
  }

  staged(clientId: string): FileStagedSecret {
    checkId(clientId);
    if (this.#dir !== undefined) return new FileStagedSecret(join(this.#dir, `${clientId}.json`));
    let secret = this.#memory.get(clientId);
    if (!secret) this.#memory.set(clientId, (secret = new FileStagedSecret()));
    return secret;
  }

  /** Local mode keeps no recovery window: a removed secret is gone at once, as a discarded one is. */
  async discard(clientId: string): Promise<void> {
    await this.remove(clientId);
  }

  async remove(clientId: string): Promise<void> {
    checkId(clientId);
    if (this.#dir !== undefined) rmSync(join(this.#dir, `${clientId}.json`), { force: true });
    else this.#memory.delete(clientId);
  }

  /** The consumers that have a secret here (what local mode's rotation schedule walks). */
  clientIds(): string[] {
    if (this.#dir === undefined) return [...this.#memory].filter(([, secret]) => secret.currentSince() !== undefined).map(([id]) => id);
    if (!existsSync(this.#dir)) return [];
    return readdirSync(this.#dir).flatMap((name) => FILE.exec(name)?.[1] ?? []);
  }
}
