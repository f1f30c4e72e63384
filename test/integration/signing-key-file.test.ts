import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { DataDirectoryError } from '../../lambdas/adapters/local/data-dir.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close();
  plane = undefined;
});

/** A data directory that holds one registered consumer and its signing-key file. */
async function usedDataDir(): Promise<{ dataDir: string; keys: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
  plane = await startTestPlane({ dataDir });
  expect((await postJson(`${plane.url}/register`, publicRequest())).status).toBe(201);
  await plane.close();
  plane = undefined;
  return { dataDir, keys: join(dataDir, 'signing-keys.json') };
}

describe('local mode signing-key file', () => {
  it('is written at start-up, before any request needs a key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    plane = await startTestPlane({ dataDir });
    expect(existsSync(join(dataDir, 'signing-keys.json'))).toBe(true);
  });

  it('stops start-up with the path and the fix when the file is corrupt, instead of answering 500 to every token request', async () => {
    const { dataDir, keys } = await usedDataDir();
    writeFileSync(keys, readFileSync(keys, 'utf8').slice(0, 40));
    const started = startTestPlane({ dataDir });
    await expect(started).rejects.toBeInstanceOf(DataDirectoryError);
    await expect(started).rejects.toThrow(`The signing-key file ${keys} is unreadable`);
  });

  it('stops start-up when the current key in the file is not a signing key', async () => {
    const { dataDir, keys } = await usedDataDir();
    const stored = JSON.parse(readFileSync(keys, 'utf8')) as { versions: Record<string, { value: string }> };
    for (const version of Object.values(stored.versions)) version.value = '{"kid":"x"}';
    writeFileSync(keys, JSON.stringify(stored));
    await expect(startTestPlane({ dataDir })).rejects.toThrow(/unreadable \(not a Gatehouse signing key\)/);
  });

  it('refuses to replace a missing file silently while the table holds data', async () => {
    const { dataDir, keys } = await usedDataDir();
    rmSync(keys);
    await expect(startTestPlane({ dataDir })).rejects.toThrow(`The signing-key file ${keys} is missing, but the data directory holds consumers`);
    expect(existsSync(keys)).toBe(false);
  });

  it('starts over with a new key when the operator empties the file on purpose', async () => {
    const { dataDir, keys } = await usedDataDir();
    const before = readFileSync(keys, 'utf8');
    writeFileSync(keys, '{}\n');
    plane = await startTestPlane({ dataDir });
    const after = readFileSync(keys, 'utf8');
    expect(after).not.toBe(before);
    expect(JSON.parse(after)).toHaveProperty('versions');
  });
});
