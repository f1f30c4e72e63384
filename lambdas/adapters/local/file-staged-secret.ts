import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { asStorageFault } from './storage-fault.js';
import { STAGES, type StagedSecret } from '../../core/ports.js';

interface Stored {
  versions: Record<string, { value: string; stages: string[]; createdAt: string }>;
}

/**
 * The StagedSecret port for local mode: versions and staging labels in one JSON file (mode 0600), kept in memory when
 * no path is given. Re-read on every call, so a rotation run from another process is seen at once.
 */
export class FileStagedSecret implements StagedSecret {
  readonly #path: string | undefined;
  #memory: Stored = { versions: {} };

  constructor(path?: string) {
    this.#path = path;
  }

  async versions(): Promise<Array<{ versionId: string; stages: string[] }>> {
    return Object.entries(this.#load().versions).map(([versionId, v]) => ({ versionId, stages: [...v.stages] }));
  }

  async read(selector: { versionId: string } | { stage: string }): Promise<string | undefined> {
    const versions = this.#load().versions;
    if ('versionId' in selector) return versions[selector.versionId]?.value;
    return Object.values(versions).find((v) => v.stages.includes(selector.stage))?.value;
  }

  async putPending(versionId: string, value: string): Promise<void> {
    const stored = this.#load();
    const existing = stored.versions[versionId];
    if (existing) {
      if (existing.value !== value) throw new Error(`Version ${versionId} already exists with another value`);
      return;
    }
    for (const v of Object.values(stored.versions)) v.stages = v.stages.filter((s) => s !== STAGES.pending);
    stored.versions[versionId] = { value, stages: [STAGES.pending], createdAt: new Date().toISOString() };
    this.#save(stored);
  }

  async promote(versionId: string, fromVersionId: string): Promise<void> {
    const stored = this.#load();
    const target = stored.versions[versionId];
    const from = stored.versions[fromVersionId];
    if (!target || !from?.stages.includes(STAGES.current)) throw new Error('promote: unknown version or not current');
    for (const v of Object.values(stored.versions)) v.stages = v.stages.filter((s) => s !== STAGES.previous);
    from.stages = [...from.stages.filter((s) => s !== STAGES.current), STAGES.previous];
    target.stages = [...target.stages.filter((s) => s !== STAGES.pending), STAGES.current];
    // Secrets Manager keeps unlabelled versions for a while; locally they are dropped.
    for (const [id, v] of Object.entries(stored.versions)) if (v.stages.length === 0) delete stored.versions[id];
    this.#save(stored);
  }

  /** When the AWSCURRENT version was stored, or undefined when there is none. */
  currentSince(): Date | undefined {
    const current = Object.values(this.#load().versions).find((v) => v.stages.includes(STAGES.current));
    return current ? new Date(current.createdAt) : undefined;
  }

  /** Writes a first version labelled AWSCURRENT if there is none (what the stack's seeding custom resource does). */
  async seedCurrent(versionId: string, value: string): Promise<boolean> {
    const stored = this.#load();
    if (Object.values(stored.versions).some((v) => v.stages.includes(STAGES.current))) return false;
    stored.versions[versionId] = { value, stages: [STAGES.current], createdAt: new Date().toISOString() };
    this.#save(stored);
    return true;
  }

  #load(): Stored {
    if (!this.#path) return this.#memory;
    if (!existsSync(this.#path)) return { versions: {} };
    const parsed = JSON.parse(readFileSync(this.#path, 'utf8')) as Partial<Stored>;
    // A file from before staged keys is replaced by a fresh seed (local data only).
    return parsed.versions ? (parsed as Stored) : { versions: {} };
  }

  #save(stored: Stored): void {
    if (!this.#path) {
      this.#memory = stored;
      return;
    }
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      const tmp = `${this.#path}.tmp`;
      writeFileSync(tmp, JSON.stringify(stored, null, 2), { mode: 0o600 });
      chmodSync(tmp, 0o600); // mode applies only to a new file; a leftover temp file keeps its own
      renameSync(tmp, this.#path);
    } catch (error) {
      throw asStorageFault(error);
    }
  }
}
