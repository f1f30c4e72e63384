import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { STAGES } from '../../core/ports.js';
import { parseSigningKey } from '../../core/tokens/generate-key.js';

/** A data directory local mode cannot run on, with what is wrong in words an operator can act on. */
export class DataDirectoryError extends Error {
  override readonly name = 'DataDirectoryError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface LevelLike {
  open(): Promise<void>;
  close(): Promise<void>;
}
// The LevelDB package dynalite itself opens, so the probe sees exactly what dynalite would.
const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level') as { Level: new (path: string) => LevelLike };

/**
 * Checks, before anything starts, that `dataDir` is a writable directory and that no other process holds its table;
 * otherwise dynalite fails later with only "Database is closed".
 */
export async function checkDataDirectory(dataDir: string): Promise<void> {
  try {
    mkdirSync(dataDir, { recursive: true });
    const probe = join(dataDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'it (or a folder on its path) is a file, not a directory'
        : code === 'EROFS'
          ? 'it is on a read-only file system'
          : code === 'EACCES' || code === 'EPERM'
            ? 'this user may not write there'
            : code === 'ENOSPC'
              ? 'the disk is full'
              : `${code ?? 'error'}: ${(error as Error).message}`;
    throw new DataDirectoryError(`Cannot use the data directory ${dataDir}: ${why}.`, dataDir, { cause: error });
  }
  const table = join(dataDir, 'dynamodb');
  const db = new Level(table);
  try {
    await db.open();
  } catch (error) {
    const cause = (error as Error).cause as (Error & { code?: string }) | undefined;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new DataDirectoryError(
        `The data directory ${dataDir} is in use by another Gatehouse process (its table ${table} is locked). Stop that one first, or set GATEHOUSE_DATA_DIR to another directory.`,
        dataDir,
        { cause: error },
      );
    }
    throw new DataDirectoryError(`Cannot open the table in ${table}: ${cause?.message ?? (error as Error).message}.`, dataDir, { cause: error });
  }
  await db.close();
}

/**
 * Checks the signing-key file before serving. A corrupt file would otherwise surface only as a 500 on every token
 * request; a missing one would be silently replaced by a fresh key, so every token and review link issued so far would
 * stop verifying. Either way start-up stops and says what to do. A missing file is normal only for a table with no data.
 */
export function checkSigningKeyFile(file: string, tableHasData: boolean): void {
  const dataDir = dirname(file);
  if (!existsSync(file)) {
    if (!tableHasData) return;
    throw new DataDirectoryError(
      `The signing-key file ${file} is missing, but the data directory holds consumers and reviews. Restore the file from a backup; ` +
        `or, to start over with a new key (every token and review link issued so far then stops verifying), create an empty file: echo '{}' > ${file}`,
      dataDir,
    );
  }
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '{}') return; // the operator's explicit request for a new key
  let problem: string | undefined;
  try {
    const stored = JSON.parse(text) as { versions?: Record<string, { value?: unknown; stages?: unknown }> };
    const current = Object.values(stored.versions ?? {}).find((v) => Array.isArray(v.stages) && v.stages.includes(STAGES.current));
    if (!current) problem = 'it has no current (AWSCURRENT) key';
    else if (typeof current.value !== 'string') problem = 'its current key has no value';
    else parseSigningKey(current.value);
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem !== undefined) {
    throw new DataDirectoryError(
      `The signing-key file ${file} is unreadable (${problem}). Restore it from a backup; or, to start over with a new key ` +
        `(every token and review link issued so far then stops verifying), replace it with an empty file: echo '{}' > ${file}`,
      dataDir,
    );
  }
}
