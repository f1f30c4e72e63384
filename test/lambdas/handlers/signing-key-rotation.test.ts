import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand, type PutSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { $ZodError } from 'zod/v4/core';
import type { SigningKey } from '../../../lambdas/core/ports.js';
import { RotationError } from '../../../lambdas/core/rotation/errors.js';
import { generateSigningKey, parseSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { createSigningKeyRotationHandler } from '../../../lambdas/handlers/signing-key-rotation.js';
import { MemoryMetrics } from '../../../lambdas/adapters/local/memory-metrics.js';
import { AWS_TEST_CLIENT_CONFIG, HOUR_MS, NOW, recordingLog, TestClock } from '../fixtures.js';
import { secretsManagerFake, stagesOf, type FakeVersion } from './secrets-manager-fake.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-signing-key-AbCdEf';
const CURRENT_ID = '11111111-1111-4111-8111-111111111111';
const PREVIOUS_ID = '00000000-0000-4000-8000-000000000000';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const MINUTE_MS = 60_000;
const PUBLISH_DELAY_MS = 900_000; // the handler's default
const OVERLAP_MS = 3_900_000; // the handler's default

const sm = mockClient(SecretsManagerClient);

type Step = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

const { simulateSecret, sent, describeSecret, getVersion } = secretsManagerFake(sm, SECRET_ID);

function handlerAt(clock = new TestClock()) {
  const log = recordingLog();
  const metrics = new MemoryMetrics();
  const handler = createSigningKeyRotationHandler({ client: new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG), clock, log, metrics });
  return { handler, log, clock, metrics };
}

const event = (Step: Step, ClientRequestToken = TOKEN) => ({ SecretId: SECRET_ID, ClientRequestToken, Step });

let seeded: SigningKey; // the key the stack's custom resource wrote: no activatesAt, signs at once
let previous: SigningKey;
let pendingKey: SigningKey;

beforeAll(async () => {
  [seeded, previous, pendingKey] = await Promise.all([
    generateSigningKey(),
    generateSigningKey(),
    generateSigningKey(new Date(NOW.getTime() + PUBLISH_DELAY_MS)),
  ]);
});

/** AWSCURRENT holds the seeded key; RotateSecret has staged TOKEN as AWSPENDING without a value yet. */
function rotationStarted(): Map<string, FakeVersion> {
  return simulateSecret({
    [PREVIOUS_ID]: { value: 'Qx7#generated-placeholder', stages: ['AWSPREVIOUS'] },
    [CURRENT_ID]: { value: JSON.stringify(seeded), stages: ['AWSCURRENT'] },
    [TOKEN]: { stages: ['AWSPENDING'] },
  });
}

/** As rotationStarted, after createSecret stored `value` in the pending version. */
function pendingWith(value: string): Map<string, FakeVersion> {
  return simulateSecret({
    [PREVIOUS_ID]: { value: 'Qx7#generated-placeholder', stages: ['AWSPREVIOUS'] },
    [CURRENT_ID]: { value: JSON.stringify(seeded), stages: ['AWSCURRENT'] },
    [TOKEN]: { value, stages: ['AWSPENDING'] },
  });
}

describe('createSigningKeyRotationHandler', () => {
  afterEach(() => {
    sm.reset();
  });

  describe('createSecret', () => {
    it('stores a new ES256 key pair as AWSPENDING that activates after the publish delay', async () => {
      const versions = rotationStarted();

      await handlerAt().handler(event('createSecret'));

      const calls = sent();
      expect(calls.slice(0, 3)).toEqual([describeSecret, getVersion(TOKEN), getVersion(CURRENT_ID)]);
      expect(calls).toHaveLength(4);
      const [name, input] = calls[3]!;
      expect(name).toBe('PutSecretValueCommand');
      expect(input).toEqual({ SecretId: SECRET_ID, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'], SecretString: expect.any(String) });

      const key = parseSigningKey((input as PutSecretValueCommandInput).SecretString!);
      expect(key.activatesAt).toBe(new Date(NOW.getTime() + PUBLISH_DELAY_MS).toISOString());
      expect(key.kid).not.toBe(seeded.kid);
      expect(key.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid, d: expect.any(String) });
      expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid });
      expect(key.publicJwk).not.toHaveProperty('d');
      // The halves belong together: what the private key signs, the public key verifies.
      const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(await importJWK(key.privateJwk as JWK, 'ES256'));
      await expect(jwtVerify(jwt, await importJWK(key.publicJwk as JWK, 'ES256'))).resolves.toBeDefined();
      // AWSCURRENT is untouched.
      expect(stagesOf(versions)).toEqual({ [PREVIOUS_ID]: ['AWSPREVIOUS'], [CURRENT_ID]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
    });

    it('takes the publish delay from its options', async () => {
      rotationStarted();
      const handler = createSigningKeyRotationHandler({
        client: new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG),
        clock: new TestClock(),
        log: recordingLog(),
        metrics: new MemoryMetrics(),
        publishDelaySeconds: 60,
      });

      await handler(event('createSecret'));

      const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
      expect(parseSigningKey(put.SecretString!).activatesAt).toBe(new Date(NOW.getTime() + 60_000).toISOString());
    });

    it('sends no PutSecretValue when the token version already holds a value (a retried step)', async () => {
      const versions = pendingWith(JSON.stringify(pendingKey));

      await handlerAt().handler(event('createSecret'));

      expect(sent()).toEqual([describeSecret, getVersion(TOKEN)]);
      expect(versions.get(TOKEN)!.value).toBe(JSON.stringify(pendingKey));
    });

    it('stores the key once when Secrets Manager calls the step twice', async () => {
      rotationStarted();
      const { handler } = handlerAt();

      await handler(event('createSecret'));
      await handler(event('createSecret'));

      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(sent().slice(4)).toEqual([describeSecret, getVersion(TOKEN)]);
    });

    it('sends nothing but DescribeSecret for a token that is already AWSCURRENT', async () => {
      simulateSecret({ [TOKEN]: { value: JSON.stringify(seeded), stages: ['AWSCURRENT'] } });

      await handlerAt().handler(event('createSecret'));

      expect(sent()).toEqual([describeSecret]);
    });

    it('refuses with rotation_too_soon while the previous key may still verify live tokens', async () => {
      const activatesAt = new Date(NOW.getTime() - OVERLAP_MS + 1);
      const current = await generateSigningKey(activatesAt);
      simulateSecret({
        [PREVIOUS_ID]: { value: JSON.stringify(previous), stages: ['AWSPREVIOUS'] },
        [CURRENT_ID]: { value: JSON.stringify(current), stages: ['AWSCURRENT'] },
        [TOKEN]: { stages: ['AWSPENDING'] },
      });

      await expect(handlerAt().handler(event('createSecret'))).rejects.toMatchObject({ name: 'RotationError', code: 'rotation_too_soon' });

      expect(sent()).toEqual([describeSecret, getVersion(TOKEN), getVersion(CURRENT_ID)]);
    });

    it('rotates once the previous key has outlived the overlap since the current key activated', async () => {
      const current = await generateSigningKey(new Date(NOW.getTime() - OVERLAP_MS));
      simulateSecret({
        [PREVIOUS_ID]: { value: JSON.stringify(previous), stages: ['AWSPREVIOUS'] },
        [CURRENT_ID]: { value: JSON.stringify(current), stages: ['AWSCURRENT'] },
        [TOKEN]: { stages: ['AWSPENDING'] },
      });

      await handlerAt().handler(event('createSecret'));

      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    });
  });

  describe('setSecret', () => {
    it('sends nothing beyond DescribeSecret', async () => {
      const versions = pendingWith(JSON.stringify(pendingKey));

      await handlerAt().handler(event('setSecret'));

      expect(sent()).toEqual([describeSecret]);
      expect(versions.get(TOKEN)!.stages).toEqual(['AWSPENDING']);
    });
  });

  describe('testSecret', () => {
    it('passes a pending key that signs and verifies', async () => {
      pendingWith(JSON.stringify(pendingKey));

      await expect(handlerAt().handler(event('testSecret'))).resolves.toBeUndefined();

      expect(sent()).toEqual([describeSecret, getVersion(TOKEN)]);
    });

    it.each([
      ['a value that is not JSON', () => '{"kid":'],
      ['JSON that is not a signing key', () => JSON.stringify({ kid: pendingKey.kid })],
      [
        'a private key that does not match the public key',
        () => JSON.stringify({ ...pendingKey, privateJwk: { ...previous.privateJwk, kid: pendingKey.kid } }),
      ],
      ['a public key that carries the private key', () => JSON.stringify({ ...pendingKey, publicJwk: pendingKey.privateJwk })],
      ['a key on another curve', () => JSON.stringify({ ...pendingKey, publicJwk: { ...pendingKey.publicJwk, crv: 'P-384' } })],
      ['an activatesAt that is not a date', () => JSON.stringify({ ...pendingKey, activatesAt: 'next tuesday-ish' })],
    ])('fails with test_failed and leaves AWSCURRENT alone for %s', async (_, value) => {
      const versions = pendingWith(value());

      const failure = handlerAt().handler(event('testSecret'));

      await expect(failure).rejects.toBeInstanceOf(RotationError);
      await expect(failure).rejects.toMatchObject({ code: 'test_failed' });
      expect(sent()).toEqual([describeSecret, getVersion(TOKEN)]);
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
      expect(stagesOf(versions)[CURRENT_ID]).toEqual(['AWSCURRENT']);
    });

    it('passes Secrets Manager’s configuration test (a pending version with no value), but such a version is never promoted', async () => {
      rotationStarted();
      const { handler } = handlerAt();

      await handler(event('testSecret'));
      expect(sent()).toEqual([describeSecret, getVersion(TOKEN)]);

      await expect(handler(event('finishSecret'))).rejects.toMatchObject({ code: 'test_failed' });
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    });

    it('fails with test_failed for an activatesAt that is not a string', async () => {
      pendingWith(JSON.stringify({ ...pendingKey, activatesAt: 1_800_000_000_000 }));

      await expect(handlerAt().handler(event('testSecret'))).rejects.toMatchObject({ code: 'test_failed' });
    });

    it.each([
      ['unknown to the secret', {}],
      ['staged AWSPREVIOUS only', { [TOKEN]: { value: JSON.stringify(pendingKey), stages: ['AWSPREVIOUS'] } }],
      ['present without a label', { [TOKEN]: { value: JSON.stringify(pendingKey), stages: [] } }],
    ])('fails with version_not_pending for a token %s', async (_, extra: Record<string, FakeVersion>) => {
      simulateSecret({ [CURRENT_ID]: { value: JSON.stringify(seeded), stages: ['AWSCURRENT'] }, ...extra });

      await expect(handlerAt().handler(event('testSecret'))).rejects.toMatchObject({ name: 'RotationError', code: 'version_not_pending' });

      expect(sent()).toEqual([describeSecret]);
    });
  });

  describe('finishSecret', () => {
    it('moves AWSCURRENT from the current version to the token', async () => {
      const versions = pendingWith(JSON.stringify(pendingKey));

      await handlerAt().handler(event('finishSecret'));

      expect(sent()).toEqual([
        describeSecret,
        getVersion(TOKEN),
        ['UpdateSecretVersionStageCommand', { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT_ID }],
      ]);
      expect(stagesOf(versions)).toMatchObject({ [CURRENT_ID]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });
    });

    it('promotes once when called twice', async () => {
      pendingWith(JSON.stringify(pendingKey));
      const { handler } = handlerAt();

      await handler(event('finishSecret'));
      await handler(event('finishSecret'));

      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(sent().map(([name]) => name)).toEqual([
        'DescribeSecretCommand',
        'GetSecretValueCommand',
        'UpdateSecretVersionStageCommand',
        'DescribeSecretCommand',
      ]);
    });

    it('fails with version_not_pending for a token that was never staged', async () => {
      simulateSecret({ [CURRENT_ID]: { value: JSON.stringify(seeded), stages: ['AWSCURRENT'] } });

      const { handler, metrics } = handlerAt();
      await expect(handler(event('finishSecret'))).rejects.toMatchObject({ code: 'version_not_pending' });

      expect(sent()).toEqual([describeSecret]);
      expect(metrics.snapshot().map((s) => [s.name, s.dimensions, s.sum])).toEqual([['SecretRotations', { kind: 'signing_key', outcome: 'failure' }, 1]]);
    });
  });

  it('runs the four steps in order to a promoted key that signs after the publish delay', async () => {
    const versions = rotationStarted();
    const { handler, metrics } = handlerAt();

    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      await handler(event(step));
      // Counted once, when the rotation completes.
      expect(metrics.total('SecretRotations', { kind: 'signing_key', outcome: 'success' })).toBe(step === 'finishSecret' ? 1 : 0);
    }
    expect(metrics.total('SecretRotations', { outcome: 'failure' })).toBe(0);

    expect(sent().map(([name]) => name)).toEqual([
      'DescribeSecretCommand',
      'GetSecretValueCommand',
      'GetSecretValueCommand',
      'PutSecretValueCommand',
      'DescribeSecretCommand',
      'DescribeSecretCommand',
      'GetSecretValueCommand',
      'DescribeSecretCommand',
      'GetSecretValueCommand',
      'UpdateSecretVersionStageCommand',
    ]);
    expect(stagesOf(versions)).toEqual({ [PREVIOUS_ID]: [], [CURRENT_ID]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });
    expect(parseSigningKey(versions.get(TOKEN)!.value!).activatesAt).toBe(new Date(NOW.getTime() + PUBLISH_DELAY_MS).toISOString());
  });

  it.each(['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)(
    'fails %s with no_current_version when no version is AWSCURRENT',
    async (step) => {
      simulateSecret({ [TOKEN]: { value: JSON.stringify(pendingKey), stages: ['AWSPENDING'] } });

      await expect(handlerAt().handler(event(step))).rejects.toMatchObject({ name: 'RotationError', code: 'no_current_version' });

      expect(sent()).toEqual([describeSecret]);
    },
  );

  it.each([
    ['a missing Step', { SecretId: SECRET_ID, ClientRequestToken: TOKEN }],
    ['an unknown Step', { SecretId: SECRET_ID, ClientRequestToken: TOKEN, Step: 'rollbackSecret' }],
    ['an empty ClientRequestToken', { SecretId: SECRET_ID, ClientRequestToken: '', Step: 'createSecret' }],
    ['a missing SecretId', { ClientRequestToken: TOKEN, Step: 'createSecret' }],
    ['no object at all', null],
  ])('refuses %s before sending anything', async (_, invalid) => {
    rotationStarted();

    await expect(handlerAt().handler(invalid)).rejects.toBeInstanceOf($ZodError);

    expect(sm.calls()).toHaveLength(0);
  });

  it('accepts the extra fields Secrets Manager sends with the event', async () => {
    pendingWith(JSON.stringify(pendingKey));

    await handlerAt().handler({ ...event('setSecret'), RotationToken: 'cross-account-rotation-token' });

    expect(sent()).toEqual([describeSecret]);
  });

  it('propagates a Secrets Manager failure', async () => {
    rotationStarted();
    sm.on(PutSecretValueCommand).rejects(new Error('AccessDeniedException'));

    await expect(handlerAt().handler(event('createSecret'))).rejects.toThrow('AccessDeniedException');
  });

  it('reads the clock on each invocation', async () => {
    rotationStarted();
    const clock = new TestClock();
    const { handler } = handlerAt(clock);
    clock.advance(2 * HOUR_MS + 5 * MINUTE_MS);

    await handler(event('createSecret'));

    const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
    expect(parseSigningKey(put.SecretString!).activatesAt).toBe(new Date(NOW.getTime() + 2 * HOUR_MS + 5 * MINUTE_MS + PUBLISH_DELAY_MS).toISOString());
  });
});
