import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

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
