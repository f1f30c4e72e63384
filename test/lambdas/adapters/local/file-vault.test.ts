import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileVault } from '../../../../lambdas/adapters/local/file-vault.js';

describe('FileVault', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-vault-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates one ES256 key in memory and keeps returning it', async () => {
    const vault = new FileVault();

    const first = await vault.getSigningKeys();
    const second = await vault.getSigningKeys();

    expect(second).toEqual(first);
    expect(first.published).toEqual([]);
    expect(first.current.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: first.current.kid });
    expect(first.current.publicJwk).not.toHaveProperty('d');
    expect(first.current.privateJwk).toHaveProperty('d');
  });

  it('persists the key to its file with mode 0600 and reads it back', async () => {
    const path = join(dir, 'nested', 'keys.json');

    const created = await new FileVault(path).getSigningKeys();
    const reloaded = await new FileVault(path).getSigningKeys();

    expect(reloaded.current).toEqual(created.current);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { versions: Record<string, { value: string; stages: string[] }> };
    const versions = Object.values(stored.versions);
    expect(versions).toHaveLength(1);
    expect(versions[0]!.stages).toEqual(['AWSCURRENT']);
    expect(JSON.parse(versions[0]!.value)).toMatchObject({ kid: created.current.kid });
  });
});
