import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStagedSecret } from '../../../../lambdas/adapters/local/file-staged-secret.js';

const stagesById = async (secret: FileStagedSecret) => Object.fromEntries((await secret.versions()).map((v) => [v.versionId, v.stages]));

describe('FileStagedSecret', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-staged-'));
    path = join(dir, 'nested', 'signing-keys.json');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('seedCurrent', () => {
    it('writes a first AWSCURRENT version once and leaves it alone afterwards', async () => {
      const secret = new FileStagedSecret();

      await expect(secret.seedCurrent('v1', 'one')).resolves.toBe(true);
      await expect(secret.seedCurrent('v2', 'two')).resolves.toBe(false);

      expect(await stagesById(secret)).toEqual({ v1: ['AWSCURRENT'] });
      await expect(secret.read({ stage: 'AWSCURRENT' })).resolves.toBe('one');
    });

    it('seeds once across instances sharing a file', async () => {
      await expect(new FileStagedSecret(path).seedCurrent('v1', 'one')).resolves.toBe(true);
      await expect(new FileStagedSecret(path).seedCurrent('v2', 'two')).resolves.toBe(false);

      await expect(new FileStagedSecret(path).read({ stage: 'AWSCURRENT' })).resolves.toBe('one');
    });
  });

  describe('read', () => {
    it('reads by version id and by stage, and returns undefined for what is absent', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');

      await expect(secret.read({ versionId: 'v2' })).resolves.toBe('two');
      await expect(secret.read({ stage: 'AWSPENDING' })).resolves.toBe('two');
      await expect(secret.read({ versionId: 'v9' })).resolves.toBeUndefined();
      await expect(secret.read({ stage: 'AWSPREVIOUS' })).resolves.toBeUndefined();
    });
  });

  describe('putPending', () => {
    it('stores a version labelled AWSPENDING', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');

      await secret.putPending('v2', 'two');

      expect(await stagesById(secret)).toEqual({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
    });

    it('is idempotent for the same version id and value', async () => {
      const secret = new FileStagedSecret(path);
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');
      const before = readFileSync(path, 'utf8');

      await secret.putPending('v2', 'two');

      expect(readFileSync(path, 'utf8')).toBe(before);
    });

    it('throws for the same version id with another value and keeps the first value', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');

      await expect(secret.putPending('v2', 'other')).rejects.toThrow('already exists with another value');

      await expect(secret.read({ versionId: 'v2' })).resolves.toBe('two');
      expect(await stagesById(secret)).toEqual({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
    });

    it('moves AWSPENDING off an abandoned pending version', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');

      await secret.putPending('v3', 'three');

      expect(await stagesById(secret)).toEqual({ v1: ['AWSCURRENT'], v2: [], v3: ['AWSPENDING'] });
      await expect(secret.read({ stage: 'AWSPENDING' })).resolves.toBe('three');
    });
  });

  describe('promote', () => {
    it('makes the pending version AWSCURRENT and the old current AWSPREVIOUS', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');

      await secret.promote('v2', 'v1');

      expect(await stagesById(secret)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
      await expect(secret.read({ stage: 'AWSCURRENT' })).resolves.toBe('two');
      await expect(secret.read({ stage: 'AWSPREVIOUS' })).resolves.toBe('one');
      await expect(secret.read({ stage: 'AWSPENDING' })).resolves.toBeUndefined();
    });

    it('drops the older previous version on the next promotion', async () => {
      const secret = new FileStagedSecret();
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v2', 'two');
      await secret.promote('v2', 'v1');
      await secret.putPending('v3', 'three');

      await secret.promote('v3', 'v2');

      expect(await stagesById(secret)).toEqual({ v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });
      await expect(secret.read({ versionId: 'v1' })).resolves.toBeUndefined();
    });

    it.each([
      ['an unknown version', 'v9', 'v1'],
      ['a from-version that is not current', 'v2', 'v3'],
    ])('throws for %s and changes nothing', async (_, versionId, fromVersionId) => {
      const secret = new FileStagedSecret(path);
      await secret.seedCurrent('v1', 'one');
      await secret.putPending('v3', 'three');
      await secret.putPending('v2', 'two');
      const before = readFileSync(path, 'utf8');

      await expect(secret.promote(versionId, fromVersionId)).rejects.toThrow('promote: unknown version or not current');

      expect(readFileSync(path, 'utf8')).toBe(before);
    });
  });

  describe('file', () => {
    it('keeps the file at mode 0600 through every write', async () => {
      const secret = new FileStagedSecret(path);

      await secret.seedCurrent('v1', 'one');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      await secret.putPending('v2', 'two');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      await secret.promote('v2', 'v1');
      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('writes the key file at mode 0600 even when a stale temp file has a looser mode', async () => {
      const secret = new FileStagedSecret(path);
      await secret.seedCurrent('v1', 'one');
      writeFileSync(`${path}.tmp`, 'stale', { mode: 0o644 });

      await secret.putPending('v2', 'two');

      expect(statSync(path).mode & 0o777).toBe(0o600);
    });

    it('sees what another instance wrote to the same file at once', async () => {
      const writer = new FileStagedSecret(path);
      const reader = new FileStagedSecret(path);
      await writer.seedCurrent('v1', 'one');
      await expect(reader.read({ stage: 'AWSCURRENT' })).resolves.toBe('one');

      await writer.putPending('v2', 'two');
      await writer.promote('v2', 'v1');

      expect(await stagesById(reader)).toEqual({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
    });

    it('treats a missing file as an empty secret without creating it', async () => {
      const secret = new FileStagedSecret(path);

      await expect(secret.versions()).resolves.toEqual([]);
      await expect(secret.read({ stage: 'AWSCURRENT' })).resolves.toBeUndefined();
      expect(() => statSync(path)).toThrow();
    });

    it('treats a legacy file without versions as empty and seeds over it', async () => {
      writeFileSync(join(dir, 'legacy.json'), JSON.stringify({ current: { kid: 'old', privateJwk: {}, publicJwk: {} }, published: [] }));
      const secret = new FileStagedSecret(join(dir, 'legacy.json'));

      await expect(secret.versions()).resolves.toEqual([]);
      await expect(secret.read({ stage: 'AWSCURRENT' })).resolves.toBeUndefined();
      await expect(secret.seedCurrent('v1', 'one')).resolves.toBe(true);

      const stored = JSON.parse(readFileSync(join(dir, 'legacy.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(stored)).toEqual(['versions']);
      expect(stored['versions']).toEqual({ v1: { value: 'one', stages: ['AWSCURRENT'], createdAt: expect.any(String) } });
    });
  });
});
