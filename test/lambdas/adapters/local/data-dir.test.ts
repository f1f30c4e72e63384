import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../../../lambdas/adapters/local/control-plane.js';
import { checkDataDirectory } from '../../../../lambdas/adapters/local/data-dir.js';
import { startTestPlane } from '../../../integration/local-mode.js';

/** A read-only file system needs a mount (root with CAP_SYS_ADMIN); chmod does not stop root from writing. */
function readOnlyMount(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ro-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close(0);
  plane = undefined;
});

describe('checkDataDirectory', () => {
  it('names the path and says it is a file when a file stands where the directory should be', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-dd-')), 'data');
    writeFileSync(file, 'not a directory');

    await expect(checkDataDirectory(file)).rejects.toThrow(`Cannot use the data directory ${file}: it (or a folder on its path) is a file, not a directory.`);
    await expect(startTestPlane({ dataDir: join(file, 'nested') })).rejects.toMatchObject({ name: 'DataDirectoryError' });
  });

  it('says the directory is in use when another plane holds its table', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-dd-'));
    plane = await startTestPlane({ dataDir });

    await expect(startTestPlane({ dataDir })).rejects.toThrow(`The data directory ${dataDir} is in use by another Gatehouse process`);
    // The first plane is unharmed.
    expect((await fetch(`${plane.url}/.well-known/jwks.json`)).status).toBe(200);
  });

  const mounted = readOnlyMount();
  it.skipIf(mounted === undefined)('says the file system is read-only', async () => {
    try {
      await expect(checkDataDirectory(mounted!)).rejects.toThrow(`Cannot use the data directory ${mounted}: it is on a read-only file system.`);
    } finally {
      execFileSync('umount', [mounted!]);
    }
  });
});
