import { PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand, type PutSecretValueCommandInput } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { $ZodError } from 'zod/v4/core';
import { verifyChain } from '../../../lambdas/core/audit/event.js';
import type { Consumer, ConsumerStatus } from '../../../lambdas/core/consumer/consumer.js';
import type { ClientSecretValue, Email, Mailer } from '../../../lambdas/core/ports.js';
import { RotationError } from '../../../lambdas/core/rotation/errors.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import { createClientSecretRotationHandler } from '../../../lambdas/handlers/client-secret-rotation.js';
import { auditTrailFor, AWS_TEST_CLIENT_CONFIG, CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, NOW } from '../fixtures.js';
import { buildServices, FakeTable, ISSUER, recordingMailer, type RecordingMailer } from './fixtures.js';
import { secretsManagerFake, stagesOf, type FakeVersion } from './secrets-manager-fake.js';

const SECRET_ID = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/client-secrets/${CLIENT_ID}-AbCdEf`;
const PREVIOUS_ID = '00000000-0000-4000-8000-000000000000';
const CURRENT_ID = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const NEXT_TOKEN = '33333333-3333-4333-8333-333333333333';
/** What createSecret would have generated: the secret being rotated in. */
const NEW_SECRET = 'rotated-client-secret-0123456789-abcdefghijklmnopqrstuvw';
const OTHER_CLIENT = 'gh_someoneelse000000';
const GRACE_MS = 7 * DAY_MS; // the default policy's secretGraceDays for low risk

const sm = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBDocumentClient);
const { simulateSecret, sent, describeSecret, getVersion } = secretsManagerFake(sm, SECRET_ID);

type Step = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
const STEPS: readonly Step[] = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];

const valueOf = (clientSecret: string, clientId = CLIENT_ID): string => JSON.stringify({ clientId, clientSecret } satisfies ClientSecretValue);
const event = (Step: Step, ClientRequestToken = TOKEN) => ({ SecretId: SECRET_ID, ClientRequestToken, Step });

/** The consumer's secret in AWSCURRENT (an older one in AWSPREVIOUS) and TOKEN staged as `pending`. */
function secretWith(pending: FakeVersion, current = valueOf(CLIENT_SECRET)): Map<string, FakeVersion> {
  return simulateSecret({
    [PREVIOUS_ID]: { value: valueOf('an-even-older-client-secret-long-enough-to-parse'), stages: ['AWSPREVIOUS'] },
    [CURRENT_ID]: { value: current, stages: ['AWSCURRENT'] },
    [TOKEN]: pending,
  });
}

/** RotateSecret has staged TOKEN as AWSPENDING without a value yet. */
const rotationStarted = (current?: string) => secretWith({ stages: ['AWSPENDING'] }, current);

/** As rotationStarted, after createSecret stored `value` in the pending version. */
const pendingWith = (value = valueOf(NEW_SECRET)) => secretWith({ value, stages: ['AWSPENDING'] });

/** Every DynamoDB command sent, serialised: where a leaked secret would show up. */
const everythingWritten = () => JSON.stringify(ddb.calls().map((c) => c.args[0].input));
const registryWrites = () => ddb.commandCalls(TransactWriteCommand).length;
/** The step read the secret (its pending version included) and changed nothing in it. */
const expectOnlyReads = () => {
  expect(sent()).toEqual(expect.arrayContaining([describeSecret, getVersion(TOKEN)]));
  expect(sent().every(([name]) => name === 'DescribeSecretCommand' || name === 'GetSecretValueCommand')).toBe(true);
};

describe('createClientSecretRotationHandler', () => {
  let table: FakeTable;
  let mailer: RecordingMailer;
  let services: ReturnType<typeof buildServices>;
  let handler: (event: unknown) => Promise<void>;

  const setUp = (mail: Mailer = mailer) => {
    services = buildServices({ jwks: { keys: [] }, mailer: mail });
    handler = createClientSecretRotationHandler(services, new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG));
  };

  /** Stores the consumer with the audit trail its auditSeq and auditHead point at. */
  const seed = (overrides: Partial<Consumer> = {}): Consumer => {
    const consumer = consumerFixture(overrides);
    table.putConsumer(consumer);
    table.putAudit(auditTrailFor(consumer.clientId, NOW.toISOString()));
    return consumer;
  };

  const stored = () => table.consumerItem(CLIENT_ID)!;
  const trail = () => table.auditTrail(CLIENT_ID);
  const chainIntact = () => verifyChain(trail(), { seq: stored()['auditSeq'] as number, hash: stored()['auditHead'] as string });
  /** Everything logged, serialised: where a leaked secret would show up. */
  const everythingLogged = () => JSON.stringify([services.log.info.mock.calls, services.log.warn.mock.calls, services.log.error.mock.calls]);

  async function failure(step: Step, token = TOKEN): Promise<RotationError> {
    const error = await handler(event(step, token)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RotationError);
    return error as RotationError;
  }

  beforeEach(() => {
    table = new FakeTable(ddb);
    mailer = recordingMailer();
    setUp();
  });

  afterEach(() => {
    sm.reset();
    ddb.reset();
    vi.restoreAllMocks();
  });

  describe('createSecret', () => {
    it('stores a new random secret of the same client as AWSPENDING, leaving AWSCURRENT and the registry alone', async () => {
      const versions = rotationStarted();
      const before = structuredClone(seed());

      await handler(event('createSecret'));

      const calls = sent();
      expect(calls.slice(0, 3)).toEqual([describeSecret, getVersion(CURRENT_ID), getVersion(TOKEN)]);
      expect(calls).toHaveLength(4);
      const [name, input] = calls[3]!;
      expect(name).toBe('PutSecretValueCommand');
      expect(input).toEqual({ SecretId: SECRET_ID, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'], SecretString: expect.any(String) });
      const created = JSON.parse((input as PutSecretValueCommandInput).SecretString!) as ClientSecretValue;
      expect(Object.keys(created).sort()).toEqual(['clientId', 'clientSecret']);
      expect(created.clientId).toBe(CLIENT_ID);
      expect(created.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      expect(created.clientSecret).not.toBe(CLIENT_SECRET);

      expect(stagesOf(versions)).toEqual({ [PREVIOUS_ID]: ['AWSPREVIOUS'], [CURRENT_ID]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] });
      expect(ddb.calls().every((c) => c.args[0] instanceof GetCommand)).toBe(true);
      expect(stored()).toMatchObject({ secretHash: before.secretHash, auditSeq: before.auditSeq });
      expect(stored()).not.toHaveProperty('pendingSecretHash');
      expect(services.log.info).toHaveBeenCalledWith('client secret created', { clientId: CLIENT_ID, version: TOKEN });
      expect(everythingLogged()).not.toContain(created.clientSecret);
    });

    it('generates a different secret for each rotation', async () => {
      const versions = rotationStarted();
      seed();

      await handler(event('createSecret', TOKEN));
      await handler(event('createSecret', NEXT_TOKEN));

      const secrets = [TOKEN, NEXT_TOKEN].map((t) => (JSON.parse(versions.get(t)!.value!) as ClientSecretValue).clientSecret);
      expect(new Set([...secrets, CLIENT_SECRET]).size).toBe(3);
      // The label follows the newest version, as Secrets Manager moves it.
      expect(stagesOf(versions)).toMatchObject({ [TOKEN]: [], [NEXT_TOKEN]: ['AWSPENDING'] });
    });

    it('stores the secret once when Secrets Manager calls the step twice', async () => {
      const versions = rotationStarted();
      seed();

      await handler(event('createSecret'));
      const first = versions.get(TOKEN)!.value;
      await handler(event('createSecret'));

      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
      expect(sent().slice(4)).toEqual([describeSecret, getVersion(CURRENT_ID), getVersion(TOKEN)]);
      expect(versions.get(TOKEN)!.value).toBe(first);
    });

    it('sends no PutSecretValue when the pending version already holds a value', async () => {
      const versions = pendingWith();
      seed();

      await handler(event('createSecret'));

      expect(sent()).toEqual([describeSecret, getVersion(CURRENT_ID), getVersion(TOKEN)]);
      expect(versions.get(TOKEN)!.value).toBe(valueOf(NEW_SECRET));
    });

    it.each<ConsumerStatus>(['revoked', 'denied', 'expired', 'failed', 'pending_review'])(
      'refuses a %s consumer with consumer_not_rotatable and stores nothing',
      async (status) => {
        const versions = rotationStarted();
        seed({ status });

        const error = await failure('createSecret');

        expect(error.code).toBe('consumer_not_rotatable');
        expect(error.message).toContain(status);
        expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
        expect(versions.get(TOKEN)!.value).toBeUndefined();
        expect(registryWrites()).toBe(0);
      },
    );

    it('refuses with consumer_not_rotatable when no consumer holds the secret', async () => {
      rotationStarted();

      const error = await failure('createSecret');

      expect(error.code).toBe('consumer_not_rotatable');
      expect(error.message).toContain(CLIENT_ID);
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    });

    it('refuses with rotation_too_soon while the previous secret is still in its grace window', async () => {
      rotationStarted();
      const previousSecretExpiresAt = new Date(NOW.getTime() + 1).toISOString();
      seed({ previousSecretHash: sha256B64u('a-secret-rotated-out-recently-0123456789'), previousSecretExpiresAt, secretRotatedAt: NOW.toISOString() });

      const error = await failure('createSecret');

      expect(error.code).toBe('rotation_too_soon');
      expect(error.message).toContain(previousSecretExpiresAt);
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(registryWrites()).toBe(0);
    });

    it('rotates again once the previous secret’s grace window has ended', async () => {
      rotationStarted();
      seed({ previousSecretHash: sha256B64u('a-secret-rotated-out-long-ago-0123456789'), previousSecretExpiresAt: NOW.toISOString() });

      await handler(event('createSecret'));

      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    });

    it.each([
      ['a value that is not JSON', '{"clientId":'],
      ['JSON without a client id', JSON.stringify({ clientSecret: CLIENT_SECRET })],
      ['a client secret shorter than 32 characters', valueOf('x'.repeat(31))],
      ['a client secret that is not a string', JSON.stringify({ clientId: CLIENT_ID, clientSecret: 12345 })],
    ])('fails with test_failed, reading nothing from the registry, when AWSCURRENT holds %s', async (_, current) => {
      rotationStarted(current);
      seed();

      const error = await failure('createSecret');

      expect(error.code).toBe('test_failed');
      expect(ddb.calls()).toHaveLength(0);
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    });

    it('sends nothing but DescribeSecret for a token that is already AWSCURRENT', async () => {
      simulateSecret({
        [CURRENT_ID]: { value: valueOf(CLIENT_SECRET), stages: ['AWSPREVIOUS'] },
        [TOKEN]: { value: valueOf(NEW_SECRET), stages: ['AWSCURRENT'] },
      });
      seed();

      await handler(event('createSecret'));

      expect(sent()).toEqual([describeSecret]);
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('setSecret', () => {
    it('records the pending secret’s hash with a credentials.rotation_started event, keeping the current secret', async () => {
      pendingWith();
      seed();

      await handler(event('setSecret'));

      expect(sent()).toEqual([describeSecret, getVersion(CURRENT_ID), getVersion(TOKEN)]);
      expect(stored()).toMatchObject({
        secretHash: sha256B64u(CLIENT_SECRET),
        pendingSecretHash: sha256B64u(NEW_SECRET),
        status: 'active',
        auditSeq: 3,
        updatedAt: NOW.toISOString(),
      });
      expect(stored()).not.toHaveProperty('previousSecretHash');
      expect(
        trail()
          .map((e) => e.type)
          .at(-1),
      ).toBe('credentials.rotation_started');
      expect(trail().at(-1)).toMatchObject({
        seq: 3,
        at: NOW.toISOString(),
        actor: { kind: 'system', id: 'client-secret-rotation' },
        data: { kind: 'client_secret', version: TOKEN },
      });
      expect(chainIntact()).toEqual({ ok: true });
      expect(everythingWritten()).not.toContain(NEW_SECRET);
      expect(everythingWritten()).not.toContain(CLIENT_SECRET);
      expect(everythingLogged()).not.toContain(NEW_SECRET);
    });

    it('appends one event when Secrets Manager calls the step twice', async () => {
      pendingWith();
      seed();

      await handler(event('setSecret'));
      await handler(event('setSecret'));

      expect(registryWrites()).toBe(1);
      expect(trail().filter((e) => e.type === 'credentials.rotation_started')).toHaveLength(1);
      expect(stored()).toMatchObject({ pendingSecretHash: sha256B64u(NEW_SECRET), auditSeq: 3 });
    });

    it('replaces the pending hash of a rotation that stalled before finishSecret', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u('a-pending-secret-of-an-abandoned-rotation') });

      await handler(event('setSecret'));

      expect(stored()).toMatchObject({ pendingSecretHash: sha256B64u(NEW_SECRET), secretHash: sha256B64u(CLIENT_SECRET) });
    });

    it('records the pending secret of a suspended consumer, which stays suspended', async () => {
      pendingWith();
      seed({ status: 'suspended' });

      await handler(event('setSecret'));

      expect(stored()).toMatchObject({ status: 'suspended', pendingSecretHash: sha256B64u(NEW_SECRET) });
    });

    it('refuses with test_failed a pending version that belongs to another client', async () => {
      pendingWith(valueOf(NEW_SECRET, OTHER_CLIENT));
      seed();

      const error = await failure('setSecret');

      expect(error.code).toBe('test_failed');
      expect(error.message).toContain(OTHER_CLIENT);
      expect(registryWrites()).toBe(0);
      expect(stored()).not.toHaveProperty('pendingSecretHash');
    });

    it('refuses with test_failed a pending version with no value', async () => {
      rotationStarted();
      seed();

      await expect(failure('setSecret')).resolves.toMatchObject({ code: 'test_failed' });
      expect(registryWrites()).toBe(0);
    });

    it('fails with version_not_pending for a token that was never staged', async () => {
      simulateSecret({ [CURRENT_ID]: { value: valueOf(CLIENT_SECRET), stages: ['AWSCURRENT'] } });
      seed();

      await expect(failure('setSecret')).resolves.toMatchObject({ code: 'version_not_pending' });
      expect(sent()).toEqual([describeSecret]);
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('testSecret', () => {
    it('passes when the registry accepts both the pending and the current secret, writing nothing', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await handler(event('testSecret'));

      expectOnlyReads();
      expect(registryWrites()).toBe(0);
    });

    it.each<[string, Partial<Consumer>]>([
      ['has no pending hash (setSecret has not run)', {}],
      ['holds the pending hash of another secret', { pendingSecretHash: sha256B64u('not-the-secret-in-the-pending-version') }],
      ['no longer accepts the current secret', { pendingSecretHash: sha256B64u(NEW_SECRET), secretHash: sha256B64u('a-secret-the-store-does-not-hold-000') }],
    ])('fails with test_failed, leaving AWSCURRENT and the consumer’s secret alone, when the registry %s', async (_, overrides) => {
      const versions = pendingWith();
      const before = seed(overrides);

      const error = await failure('testSecret');

      expect(error.code).toBe('test_failed');
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
      expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
      expect(stagesOf(versions)[CURRENT_ID]).toEqual(['AWSCURRENT']);
      expect(registryWrites()).toBe(0);
      expect(stored()['secretHash']).toBe(before.secretHash);
    });

    it('refuses with test_failed a pending version that belongs to another client', async () => {
      pendingWith(valueOf(NEW_SECRET, OTHER_CLIENT));
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await expect(failure('testSecret')).resolves.toMatchObject({ code: 'test_failed' });
    });

    it('passes Secrets Manager’s configuration test (a pending version with no value), but such a version is never promoted', async () => {
      const versions = rotationStarted();
      seed();

      await handler(event('testSecret'));

      expectOnlyReads();
      expect(registryWrites()).toBe(0);
      expect(services.log.info).toHaveBeenCalledWith('rotation configuration test: pending version holds no value', { version: TOKEN });

      await expect(failure('finishSecret')).resolves.toMatchObject({ code: 'test_failed' });
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
      expect(stagesOf(versions)[CURRENT_ID]).toEqual(['AWSCURRENT']);
      expect(registryWrites()).toBe(0);
    });

    it('passes the configuration test Secrets Manager runs at registration, before the consumer is written', async () => {
      rotationStarted();

      await expect(handler(event('testSecret'))).resolves.toBeUndefined();

      expect(registryWrites()).toBe(0);
    });
  });

  describe('finishSecret', () => {
    it('moves AWSCURRENT to the new version, then makes it the consumer’s secret with the old one in its grace window', async () => {
      const versions = pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await handler(event('finishSecret'));

      expect(sent()).toEqual([
        describeSecret,
        getVersion(CURRENT_ID),
        getVersion(TOKEN),
        ['UpdateSecretVersionStageCommand', { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: CURRENT_ID }],
        getVersion(TOKEN),
      ]);
      expect(stagesOf(versions)).toMatchObject({ [PREVIOUS_ID]: [], [CURRENT_ID]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });

      const previousValidUntil = new Date(NOW.getTime() + GRACE_MS).toISOString();
      expect(stored()).toMatchObject({
        status: 'active',
        secretHash: sha256B64u(NEW_SECRET),
        previousSecretHash: sha256B64u(CLIENT_SECRET),
        previousSecretExpiresAt: previousValidUntil,
        secretRotatedAt: NOW.toISOString(),
        // The hard end of any secret of this consumer does not move.
        secretExpiresAt: consumerFixture().secretExpiresAt,
        auditSeq: 3,
      });
      expect(stored()).not.toHaveProperty('pendingSecretHash');
      expect(trail().at(-1)).toMatchObject({
        type: 'credentials.rotated',
        actor: { kind: 'system', id: 'client-secret-rotation' },
        data: { kind: 'client_secret', version: TOKEN, previousValidUntil },
      });
      expect(chainIntact()).toEqual({ ok: true });
      expect(everythingWritten()).not.toContain(NEW_SECRET);
      expect(everythingWritten()).not.toContain(CLIENT_SECRET);
      expect(services.log.info).toHaveBeenCalledWith('client secret rotated', { clientId: CLIENT_ID, version: TOKEN, previousValidUntil });
    });

    it('takes the grace window from the policy in force for the consumer’s risk', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET), requirements: { ...consumerFixture().requirements, secretGraceDays: 1 } });

      await handler(event('finishSecret'));

      expect(stored()['previousSecretExpiresAt']).toBe(new Date(NOW.getTime() + GRACE_MS).toISOString());
    });

    it('tells every contact where to fetch the new secret, and until when the old one works, without either secret', async () => {
      pendingWith();
      const contacts = ['api-owner@partner.example', 'on-call@partner.example'];
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET), contacts });

      await handler(event('finishSecret'));

      expect(mailer.sent).toHaveLength(1);
      const [email] = mailer.sent as [Email];
      const previousValidUntil = new Date(NOW.getTime() + GRACE_MS).toISOString();
      expect(email.to).toEqual(contacts);
      expect(email.subject).toContain('FX dashboard');
      expect(email.subject).toContain(previousValidUntil);
      expect(email.text).toContain(`GET ${ISSUER}/register/${CLIENT_ID}`);
      expect(email.text).toContain(previousValidUntil);
      const whole = JSON.stringify(email);
      expect(whole).not.toContain(NEW_SECRET);
      expect(whole).not.toContain(CLIENT_SECRET);
      expect(whole).not.toContain(sha256B64u(NEW_SECRET));
    });

    it('completes the rotation when the notice cannot be sent, and logs that without the secret', async () => {
      const send = vi.fn<Mailer['send']>().mockRejectedValue(Object.assign(new Error('Daily sending quota exceeded'), { name: 'LimitExceededException' }));
      setUp({ send });
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await expect(handler(event('finishSecret'))).resolves.toBeUndefined();

      expect(send).toHaveBeenCalledOnce();
      expect(stored()).toMatchObject({ secretHash: sha256B64u(NEW_SECRET), previousSecretHash: sha256B64u(CLIENT_SECRET) });
      expect(services.log.error).toHaveBeenCalledWith('client secret rotation notice not sent', { clientId: CLIENT_ID, error: 'LimitExceededException' });
      expect(everythingLogged()).not.toContain(NEW_SECRET);
    });

    it('promotes once, updates the registry once and notifies once when called twice', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await handler(event('finishSecret'));
      await handler(event('finishSecret'));

      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(registryWrites()).toBe(1);
      expect(mailer.sent).toHaveLength(1);
      expect(trail().filter((e) => e.type === 'credentials.rotated')).toHaveLength(1);
      // The retry sees its version current and only re-reads it.
      expect(sent().slice(5)).toEqual([describeSecret, getVersion(TOKEN)]);
    });

    it('completes the registry side when retried after AWSCURRENT moved but the registry update failed', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });
      vi.spyOn(services.consumers, 'updateConsumer').mockRejectedValueOnce(
        Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }),
      );

      await expect(handler(event('finishSecret'))).rejects.toThrow('throttled');
      // Half done: the store has the new secret, the registry still accepts it as pending and the old one as current.
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(stored()).toMatchObject({ secretHash: sha256B64u(CLIENT_SECRET), pendingSecretHash: sha256B64u(NEW_SECRET) });
      expect(mailer.sent).toHaveLength(0);

      await handler(event('finishSecret'));

      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
      expect(stored()).toMatchObject({
        secretHash: sha256B64u(NEW_SECRET),
        previousSecretHash: sha256B64u(CLIENT_SECRET),
        previousSecretExpiresAt: new Date(NOW.getTime() + GRACE_MS).toISOString(),
      });
      expect(stored()).not.toHaveProperty('pendingSecretHash');
      expect(trail().filter((e) => e.type === 'credentials.rotated')).toHaveLength(1);
      expect(chainIntact()).toEqual({ ok: true });
      expect(mailer.sent).toHaveLength(1);
    });

    it('completes the registry side for a version Secrets Manager already made current', async () => {
      simulateSecret({
        [CURRENT_ID]: { value: valueOf(CLIENT_SECRET), stages: ['AWSPREVIOUS'] },
        [TOKEN]: { value: valueOf(NEW_SECRET), stages: ['AWSCURRENT', 'AWSPENDING'] },
      });
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

      await handler(event('finishSecret'));

      expect(sent()).toEqual([describeSecret, getVersion(TOKEN)]);
      expect(stored()).toMatchObject({ secretHash: sha256B64u(NEW_SECRET), previousSecretHash: sha256B64u(CLIENT_SECRET) });
    });

    it('fails with test_failed for a current version the registry never staged', async () => {
      simulateSecret({
        [CURRENT_ID]: { value: valueOf(CLIENT_SECRET), stages: ['AWSPREVIOUS'] },
        [TOKEN]: { value: valueOf(NEW_SECRET), stages: ['AWSCURRENT'] },
      });
      seed();

      await expect(failure('finishSecret')).resolves.toMatchObject({ code: 'test_failed' });
      expect(registryWrites()).toBe(0);
    });

    it.each<[string, Partial<Consumer>, string]>([
      ['the registry has not staged', {}, valueOf(NEW_SECRET)],
      ['the registry staged another secret for', { pendingSecretHash: sha256B64u('some-other-pending-secret-0123456789') }, valueOf(NEW_SECRET)],
      ['belongs to another client', { pendingSecretHash: sha256B64u(NEW_SECRET) }, valueOf(NEW_SECRET, OTHER_CLIENT)],
    ])('refuses with test_failed to promote a version %s', async (_, overrides, pending) => {
      const versions = pendingWith(pending);
      const before = seed(overrides);

      await expect(failure('finishSecret')).resolves.toMatchObject({ code: 'test_failed' });

      expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
      expect(stagesOf(versions)[CURRENT_ID]).toEqual(['AWSCURRENT']);
      expect(registryWrites()).toBe(0);
      expect(stored()['secretHash']).toBe(before.secretHash);
      expect(mailer.sent).toHaveLength(0);
    });

    it('leaves the registry alone when the promotion fails', async () => {
      pendingWith();
      seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });
      sm.on(UpdateSecretVersionStageCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

      await expect(handler(event('finishSecret'))).rejects.toThrow('Rate exceeded');

      expect(registryWrites()).toBe(0);
      expect(stored()).toMatchObject({ secretHash: sha256B64u(CLIENT_SECRET), pendingSecretHash: sha256B64u(NEW_SECRET) });
      expect(mailer.sent).toHaveLength(0);
    });
  });

  it('runs the four steps in order to a rotated secret, auditing the start and the end', async () => {
    const versions = rotationStarted();
    seed();

    for (const step of STEPS) {
      await handler(event(step));
      // A rotation counts once, when it completes.
      expect(services.metrics.total('SecretRotations', { kind: 'client_secret', outcome: 'success' })).toBe(step === 'finishSecret' ? 1 : 0);
    }
    expect(services.metrics.total('SecretRotations', { outcome: 'failure' })).toBe(0);

    const created = JSON.parse(versions.get(TOKEN)!.value!) as ClientSecretValue;
    expect(stagesOf(versions)).toEqual({ [PREVIOUS_ID]: [], [CURRENT_ID]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT', 'AWSPENDING'] });
    expect(stored()).toMatchObject({ secretHash: sha256B64u(created.clientSecret), previousSecretHash: sha256B64u(CLIENT_SECRET) });
    expect(
      trail()
        .map((e) => e.type)
        .slice(2),
    ).toEqual(['credentials.rotation_started', 'credentials.rotated']);
    expect(chainIntact()).toEqual({ ok: true });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
    expect(everythingWritten()).not.toContain(created.clientSecret);
    expect(everythingLogged()).not.toContain(created.clientSecret);
    expect(JSON.stringify(mailer.sent)).not.toContain(created.clientSecret);
  });

  it('rotates a suspended consumer’s secret, so it cannot come back with a stale one', async () => {
    const versions = rotationStarted();
    seed({ status: 'suspended' });

    for (const step of STEPS) await handler(event(step));

    const created = JSON.parse(versions.get(TOKEN)!.value!) as ClientSecretValue;
    expect(stored()).toMatchObject({ status: 'suspended', secretHash: sha256B64u(created.clientSecret) });
  });

  it.each(STEPS)('fails %s with no_current_version when no version is AWSCURRENT', async (step) => {
    simulateSecret({ [TOKEN]: { value: valueOf(NEW_SECRET), stages: ['AWSPENDING'] } });
    seed();

    await expect(failure(step)).resolves.toMatchObject({ code: 'no_current_version' });
    expect(sent()).toEqual([describeSecret]);
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each(['setSecret', 'testSecret', 'finishSecret'] as const)('fails %s with version_not_pending for a token that is only AWSPREVIOUS', async (step) => {
    simulateSecret({
      [CURRENT_ID]: { value: valueOf(CLIENT_SECRET), stages: ['AWSCURRENT'] },
      [TOKEN]: { value: valueOf(NEW_SECRET), stages: ['AWSPREVIOUS'] },
    });
    seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

    await expect(failure(step)).resolves.toMatchObject({ code: 'version_not_pending' });
    expect(sent()).toEqual([describeSecret]);
  });

  it.each([
    ['a missing Step', { SecretId: SECRET_ID, ClientRequestToken: TOKEN }],
    ['an unknown Step', { SecretId: SECRET_ID, ClientRequestToken: TOKEN, Step: 'rollbackSecret' }],
    ['an empty ClientRequestToken', { SecretId: SECRET_ID, ClientRequestToken: '', Step: 'createSecret' }],
    ['an empty SecretId', { SecretId: '', ClientRequestToken: TOKEN, Step: 'createSecret' }],
    ['a SecretId that is not a string', { SecretId: 42, ClientRequestToken: TOKEN, Step: 'createSecret' }],
    ['no object at all', undefined],
  ])('refuses %s before sending anything', async (_, invalid) => {
    rotationStarted();
    seed();

    await expect(handler(invalid)).rejects.toBeInstanceOf($ZodError);

    expect(sm.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('accepts the extra fields Secrets Manager sends with the event', async () => {
    pendingWith();
    seed({ pendingSecretHash: sha256B64u(NEW_SECRET) });

    await expect(handler({ ...event('testSecret'), RotationToken: 'cross-account-rotation-token' })).resolves.toBeUndefined();
  });

  it('logs a failing step with its version and cause, never a secret', async () => {
    pendingWith();
    seed();

    const error = await failure('testSecret');

    expect(services.log.error).toHaveBeenCalledWith('client secret rotation step failed', {
      step: 'testSecret',
      version: TOKEN,
      error: 'RotationError',
      message: error.message,
    });
    expect(everythingLogged()).not.toContain(NEW_SECRET);
    expect(everythingLogged()).not.toContain(CLIENT_SECRET);
  });

  it('logs and propagates a Secrets Manager failure', async () => {
    rotationStarted();
    seed();
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('User is not authorized to perform secretsmanager:PutSecretValue'), { name: 'AccessDeniedException' }),
    );

    await expect(handler(event('createSecret'))).rejects.toThrow('not authorized');

    expect(services.log.error).toHaveBeenCalledWith(
      'client secret rotation step failed',
      expect.objectContaining({ step: 'createSecret', error: 'AccessDeniedException' }),
    );
    expect(services.log.info).not.toHaveBeenCalledWith('client secret created', expect.anything());
    expect(services.metrics.snapshot().map((m) => [m.name, m.dimensions, m.sum])).toEqual([
      ['SecretRotations', { kind: 'client_secret', outcome: 'failure' }, 1],
    ]);
  });
});
