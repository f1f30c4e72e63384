import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileClientSecrets } from '../../../../lambdas/adapters/local/file-client-secrets.js';
import { STAGES, type ClientSecretValue } from '../../../../lambdas/core/ports.js';
import { CLIENT_ID, CLIENT_SECRET } from '../../fixtures.js';

const OTHER_ID = 'gh_otherclient000000';
const value = (clientId = CLIENT_ID, clientSecret = CLIENT_SECRET): ClientSecretValue => ({ clientId, clientSecret });
const current = (store: FileClientSecrets, clientId = CLIENT_ID) => store.staged(clientId).read({ stage: STAGES.current });
const ROTATED = 'the-rotated-secret-0123456789abcdefghij';

/** What a rotation does to CLIENT_ID's staged secret: a new version made current, each step on a fresh staged() handle. */
async function rotateIn(store: FileClientSecrets, clientSecret: string): Promise<void> {
  const versionId = (await store.staged(CLIENT_ID).versions())[0]!.versionId;
  await store.staged(CLIENT_ID).putPending('v2', JSON.stringify(value(CLIENT_ID, clientSecret)));
  await store.staged(CLIENT_ID).promote('v2', versionId);
}

describe('FileClientSecrets', () => {
  describe('in memory', () => {
    it('stores a consumer’s first secret as its only version, labelled AWSCURRENT', async () => {
      const store = new FileClientSecrets();

      await store.create(value());

      await expect(current(store)).resolves.toBe(JSON.stringify(value()));
      const versions = await store.staged(CLIENT_ID).versions();
      expect(versions).toEqual([{ versionId: expect.stringMatching(/^[0-9a-f-]{36}$/), stages: [STAGES.current] }]);
      expect(store.clientIds()).toEqual([CLIENT_ID]);
    });

    it('refuses a second secret for the same consumer and keeps the first', async () => {
      const store = new FileClientSecrets();
      await store.create(value());

      await expect(store.create(value(CLIENT_ID, 'another-secret-for-the-same-client-0123'))).rejects.toMatchObject({
        code: 'conflict',
        message: `A client secret for ${CLIENT_ID} is already stored.`,
      });

      await expect(current(store)).resolves.toBe(JSON.stringify(value()));
      expect(await store.staged(CLIENT_ID).versions()).toHaveLength(1);
    });

    it('keeps each consumer’s secret apart', async () => {
      const store = new FileClientSecrets();
      await store.create(value());
      await store.create(value(OTHER_ID, 'the-other-client-secret-0123456789abcdef'));

      expect(store.clientIds().sort()).toEqual([CLIENT_ID, OTHER_ID].sort());
      await expect(current(store, OTHER_ID)).resolves.toBe(JSON.stringify(value(OTHER_ID, 'the-other-client-secret-0123456789abcdef')));
      await expect(current(store)).resolves.toBe(JSON.stringify(value()));
    });

    it('hands out one staged secret per consumer, so a rotation is seen by every later reader', async () => {
      const store = new FileClientSecrets();
      await store.create(value());

      await rotateIn(store, ROTATED);

      await expect(current(store)).resolves.toBe(JSON.stringify(value(CLIENT_ID, ROTATED)));
      await expect(store.staged(CLIENT_ID).read({ stage: STAGES.previous })).resolves.toBe(JSON.stringify(value()));
    });

    it('shares nothing between two stores', async () => {
      const a = new FileClientSecrets();
      const b = new FileClientSecrets();

      await a.create(value());

      expect(b.clientIds()).toEqual([]);
      await expect(current(b)).resolves.toBeUndefined();
    });

    it('removes a consumer’s secret, after which it may be created again; removing what is absent is not an error', async () => {
      const store = new FileClientSecrets();
      await store.create(value());

      await store.remove(CLIENT_ID);
      await expect(store.remove(CLIENT_ID)).resolves.toBeUndefined();

      expect(store.clientIds()).toEqual([]);
      await expect(current(store)).resolves.toBeUndefined();
      await expect(store.create(value(CLIENT_ID, 'a-new-secret-after-removal-0123456789'))).resolves.toBeUndefined();
    });

    it('lists only consumers that have a secret, even after a lookup of one that has none', async () => {
      const store = new FileClientSecrets();
      await store.create(value());

      await expect(current(store, OTHER_ID)).resolves.toBeUndefined();

      expect(store.clientIds()).toEqual([CLIENT_ID]);
    });
  });

  describe('in a directory', () => {
    let root: string;
    let dir: string;

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'gatehouse-client-secrets-'));
      dir = join(root, 'client-secrets');
    });
    afterEach(() => {
      rmSync(root, { recursive: true, force: true });
    });

    it('writes one file per consumer, readable by its owner only, creating the directory', async () => {
      await new FileClientSecrets(dir).create(value());

      const path = join(dir, `${CLIENT_ID}.json`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(readFileSync(path, 'utf8')) as { versions: Record<string, { value: string; stages: string[] }> };
      expect(Object.values(stored.versions)).toEqual([expect.objectContaining({ value: JSON.stringify(value()), stages: [STAGES.current] })]);
    });

    it('keeps the file owner-only through a rotation', async () => {
      const store = new FileClientSecrets(dir);
      await store.create(value());

      await rotateIn(store, ROTATED);

      expect(statSync(join(dir, `${CLIENT_ID}.json`)).mode & 0o777).toBe(0o600);
    });

    it('is shared by every store over the same directory', async () => {
      await new FileClientSecrets(dir).create(value());

      const other = new FileClientSecrets(dir);

      expect(other.clientIds()).toEqual([CLIENT_ID]);
      await expect(current(other)).resolves.toBe(JSON.stringify(value()));
      await expect(other.create(value(CLIENT_ID, 'another-secret-for-the-same-client-0123'))).rejects.toMatchObject({ code: 'conflict' });
      await expect(current(other)).resolves.toBe(JSON.stringify(value()));
    });

    it('lists the consumers that have a secret file, ignoring anything else in the directory', async () => {
      const store = new FileClientSecrets(dir);
      await store.create(value());
      await store.create(value(OTHER_ID, 'the-other-client-secret-0123456789abcdef'));
      writeFileSync(join(dir, 'README.md'), 'not a secret');
      writeFileSync(join(dir, `${CLIENT_ID}.json.tmp`), '{}');
      writeFileSync(join(dir, 'policy.json'), '{}');

      expect(store.clientIds().sort()).toEqual([CLIENT_ID, OTHER_ID].sort());
    });

    it('lists no consumers before the directory exists, and a lookup creates nothing', async () => {
      const store = new FileClientSecrets(dir);

      await expect(current(store)).resolves.toBeUndefined();

      expect(store.clientIds()).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    });

    it('removes a consumer’s file and nothing else; removing what is absent is not an error', async () => {
      const store = new FileClientSecrets(dir);
      await store.create(value());
      await store.create(value(OTHER_ID, 'the-other-client-secret-0123456789abcdef'));

      await store.remove(CLIENT_ID);
      await expect(store.remove(CLIENT_ID)).resolves.toBeUndefined();

      expect(existsSync(join(dir, `${CLIENT_ID}.json`))).toBe(false);
      expect(store.clientIds()).toEqual([OTHER_ID]);
      await expect(current(store)).resolves.toBeUndefined();
    });

    it.each(['../escape', 'gh_a/b', 'gh_a.b', '', 'gh_ space'])('refuses the client id %j before touching the disk', async (clientId) => {
      const store = new FileClientSecrets(dir);

      expect(() => store.staged(clientId)).toThrow('Invalid client id');
      await expect(store.create(value(clientId))).rejects.toThrow('Invalid client id');

      expect(existsSync(dir)).toBe(false);
      expect(existsSync(join(root, 'escape.json'))).toBe(false);
    });

    it('refuses to remove a file outside its directory', async () => {
      mkdirSync(dir);
      const outside = join(root, 'outside.json');
      writeFileSync(outside, '{}');

      await expect(new FileClientSecrets(dir).remove('../outside')).rejects.toThrow('Invalid client id');

      expect(existsSync(outside)).toBe(true);
    });
  });
});
