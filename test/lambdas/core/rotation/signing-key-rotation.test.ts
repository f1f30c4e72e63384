import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FilePublicKeyStore } from '../../../../lambdas/adapters/local/file-public-keys.js';
import { FileStagedSecret } from '../../../../lambdas/adapters/local/file-staged-secret.js';
import type { SigningKey } from '../../../../lambdas/core/ports.js';
import { RotationError } from '../../../../lambdas/core/rotation/errors.js';
import { ROTATION_STEPS, rotateSigningKey, type RotationContext, type RotationStep } from '../../../../lambdas/core/rotation/signing-key-rotation.js';
import { generateSigningKey, parseSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { parsePublicKeySet } from '../../../../lambdas/core/tokens/public-keys.js';
import { StagedSecretVault } from '../../../../lambdas/core/tokens/staged-vault.js';
import { NOW, recordingLog } from '../../fixtures.js';

const SEED_ID = 'seed';
const TOKEN = 'token';
const PUBLISH_DELAY_MS = 15 * 60_000;

let seed: SigningKey;

beforeAll(async () => {
  seed = await generateSigningKey();
});

async function seeded(): Promise<{ secret: FileStagedSecret; publicKeys: FilePublicKeyStore; ctx: RotationContext }> {
  const secret = new FileStagedSecret();
  const publicKeys = new FilePublicKeyStore();
  await secret.seedCurrent(SEED_ID, JSON.stringify(seed));
  return { secret, publicKeys, ctx: { secret, publicKeys, now: NOW, publishDelayMs: PUBLISH_DELAY_MS, previousOverlapMs: 3_900_000, log: recordingLog() } };
}

const holding = async (secret: FileStagedSecret, stage: string) => (await secret.versions()).filter((v) => v.stages.includes(stage)).map((v) => v.versionId);

describe('rotateSigningKey', () => {
  it('mirrors the public halves to the public store: the pending key from createSecret, the promoted set at finishSecret', async () => {
    const { publicKeys, ctx } = await seeded();
    const published = async () => {
      const text = await publicKeys.read();
      expect(text).not.toMatch(/"d"|privateJwk/);
      return parsePublicKeySet(text ?? '');
    };

    await rotateSigningKey('createSecret', TOKEN, ctx);
    await publicKeys.write('stale');
    await rotateSigningKey('setSecret', TOKEN, ctx);
    const beforeFinish = await published();
    expect(beforeFinish.current.kid).toBe(seed.kid);
    expect(beforeFinish.published).toHaveLength(1);
    const pendingKid = beforeFinish.published[0]?.kid;

    await rotateSigningKey('testSecret', TOKEN, ctx);
    await rotateSigningKey('finishSecret', TOKEN, ctx);
    const after = await published();
    expect(after.current.kid).toBe(pendingKid);
    expect(after.previous?.kid).toBe(seed.kid);
    expect(after.published.map((k) => k.kid)).toEqual([seed.kid]);
  });

  it('keeps the secret consistent under any order and repetition of steps, and ends rotated once run in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<RotationStep>(...ROTATION_STEPS), { maxLength: 10 }), async (steps) => {
        const { secret, ctx } = await seeded();
        let created: string | undefined;

        const runAndCheck = async (step: RotationStep) => {
          try {
            await rotateSigningKey(step, TOKEN, ctx);
          } catch (error) {
            // Only a step before createSecret may fail, and only because the token is not pending yet.
            expect(error).toBeInstanceOf(RotationError);
            expect(error).toMatchObject({ code: 'version_not_pending' });
            expect(created).toBeUndefined();
          }
          const current = await holding(secret, 'AWSCURRENT');
          expect(current).toHaveLength(1);
          expect([SEED_ID, TOKEN]).toContain(current[0]);
          expect((await holding(secret, 'AWSPENDING')).length).toBeLessThanOrEqual(1);
          expect((await holding(secret, 'AWSPREVIOUS')).length).toBeLessThanOrEqual(1);
          if (current[0] === TOKEN) expect(await holding(secret, 'AWSPREVIOUS')).toEqual([SEED_ID]);
          // The created key never changes, however often createSecret runs again.
          const value = await secret.read({ versionId: TOKEN });
          if (created !== undefined) expect(value).toBe(created);
          created = value;
          // Readers always find a usable key set with the seed published.
          const keys = await new StagedSecretVault(secret).getSigningKeys();
          expect([keys.current, ...keys.published].map((k) => k.kid)).toContain(seed.kid);
        };

        for (const step of steps) await runAndCheck(step);
        for (const step of ROTATION_STEPS) await runAndCheck(step);

        expect(await holding(secret, 'AWSCURRENT')).toEqual([TOKEN]);
        expect(await holding(secret, 'AWSPREVIOUS')).toEqual([SEED_ID]);
        expect(parseSigningKey(created!).activatesAt).toBe(new Date(NOW.getTime() + PUBLISH_DELAY_MS).toISOString());
      }),
      { numRuns: 40 },
    );
  });

  it('fails with rotation_too_soon and stores nothing while the current key is within its overlap', async () => {
    const { secret, ctx } = await seeded();
    for (const step of ROTATION_STEPS) await rotateSigningKey(step, TOKEN, ctx);
    const before = await secret.versions();
    const later = { ...ctx, now: new Date(NOW.getTime() + PUBLISH_DELAY_MS + ctx.previousOverlapMs - 1) };

    await expect(rotateSigningKey('createSecret', 'next', later)).rejects.toMatchObject({ name: 'RotationError', code: 'rotation_too_soon' });

    expect(await secret.versions()).toEqual(before);
  });
});
