import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStagedSecret } from '../../../../lambdas/adapters/local/file-staged-secret.js';
import type { Consumer, ConsumerStatus } from '../../../../lambdas/core/consumer/consumer.js';
import { authenticateClient } from '../../../../lambdas/core/oauth/authenticate-client.js';
import { ConsumerCache } from '../../../../lambdas/core/oauth/consumer-cache.js';
import { STAGES, type ClientSecretValue } from '../../../../lambdas/core/ports.js';
import {
  clientSecretRotationDue,
  parseClientSecretValue,
  rotateClientSecret,
  rotateClientSecretFully,
  rotationNotice,
  secretGraceMs,
} from '../../../../lambdas/core/rotation/client-secret-rotation.js';
import { RotationError } from '../../../../lambdas/core/rotation/errors.js';
import { ROTATION_STEPS, type RotationStep } from '../../../../lambdas/core/rotation/steps.js';
import { secretMatchesHash } from '../../../../lambdas/core/util/hash.js';
import { auditTrailFor, CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, defaultPolicy, NOW } from '../../fixtures.js';
import { buildServices, FakeTable, ISSUER } from '../../handlers/fixtures.js';
import { policyWith } from '../policy/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const GRACE_MS = 7 * DAY_MS;
const ROTATION_MS = 90 * DAY_MS; // the default policy's low risk
const SEED_ID = 'seed';
const TOKEN = 'token';

const valueOf = (clientSecret: string, clientId = CLIENT_ID): string => JSON.stringify({ clientId, clientSecret } satisfies ClientSecretValue);

describe('parseClientSecretValue', () => {
  it('returns the client id and the secret, and nothing else', () => {
    expect(parseClientSecretValue(JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, note: 'extra' }))).toStrictEqual({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
  });

  it('accepts a secret of exactly 32 characters', () => {
    expect(parseClientSecretValue(valueOf('s'.repeat(32))).clientSecret).toBe('s'.repeat(32));
  });

  it.each([
    ['no value', undefined],
    ['an empty string', ''],
    ['text that is not JSON', 'not json'],
    ['JSON null', 'null'],
    ['a JSON string', JSON.stringify(valueOf(CLIENT_SECRET))],
    ['a value without a client id', JSON.stringify({ clientSecret: CLIENT_SECRET })],
    ['a client id that is not a string', JSON.stringify({ clientId: 7, clientSecret: CLIENT_SECRET })],
    ['a value without a secret', JSON.stringify({ clientId: CLIENT_ID })],
    ['a secret of 31 characters', valueOf('s'.repeat(31))],
    ['a signing key', JSON.stringify({ kid: 'k1', privateJwk: {}, publicJwk: {} })],
  ])('refuses %s with test_failed', (_, text) => {
    let thrown: unknown;
    try {
      parseClientSecretValue(text);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(RotationError);
    expect(thrown).toMatchObject({ code: 'test_failed' });
    // The refusal never echoes what the secret held.
    expect((thrown as Error).message).not.toContain(CLIENT_SECRET);
  });
});

describe('secretGraceMs', () => {
  it('is the deployed policy’s secretGraceDays for the consumer’s risk', () => {
    expect(secretGraceMs({ policy: defaultPolicy }, { risk: 'low' })).toBe(GRACE_MS);
    const policy = policyWith((d) => void (d.risks.low.secretGraceDays = 2));
    expect(secretGraceMs({ policy }, { risk: 'low' })).toBe(2 * DAY_MS);
  });
});

describe('clientSecretRotationDue', () => {
  const services = { policy: defaultPolicy };
  const at = (ms: number) => new Date(NOW.getTime() + ms);

  it('is due once the policy’s rotation period has passed since the consumer was created', () => {
    const consumer = consumerFixture();

    expect(clientSecretRotationDue(services, consumer, at(ROTATION_MS - 1))).toBe(false);
    expect(clientSecretRotationDue(services, consumer, at(ROTATION_MS))).toBe(true);
    expect(clientSecretRotationDue(services, consumer, at(2 * ROTATION_MS))).toBe(true);
  });

  it('counts from the last rotation when there was one', () => {
    const consumer = consumerFixture({ secretRotatedAt: at(30 * DAY_MS).toISOString() });

    expect(clientSecretRotationDue(services, consumer, at(ROTATION_MS))).toBe(false);
    expect(clientSecretRotationDue(services, consumer, at(30 * DAY_MS + ROTATION_MS - 1))).toBe(false);
    expect(clientSecretRotationDue(services, consumer, at(30 * DAY_MS + ROTATION_MS))).toBe(true);
  });

  it('follows the period of the policy in force, not the one frozen in the consumer', () => {
    const longer = { policy: policyWith((d) => void (d.risks.low.secretRotationDays = 120)) };
    const consumer = consumerFixture();

    expect(consumer.requirements.secretRotationDays).toBe(90);
    expect(clientSecretRotationDue(longer, consumer, at(ROTATION_MS))).toBe(false);
    expect(clientSecretRotationDue(longer, consumer, at(120 * DAY_MS - 1))).toBe(false);
    expect(clientSecretRotationDue(longer, consumer, at(120 * DAY_MS))).toBe(true);
  });

  it('is due for a suspended consumer', () => {
    expect(clientSecretRotationDue(services, consumerFixture({ status: 'suspended' }), at(ROTATION_MS))).toBe(true);
  });

  it.each<ConsumerStatus>(['pending_review', 'denied', 'expired', 'failed', 'revoked'])('is never due for a %s consumer', (status) => {
    expect(clientSecretRotationDue(services, consumerFixture({ status }), at(10 * ROTATION_MS))).toBe(false);
  });

  it('is never due for a key-bound consumer', () => {
    const consumer = consumerFixture({ authMethod: 'private_key_jwt', secretHash: undefined, secretExpiresAt: undefined });

    expect(clientSecretRotationDue(services, consumer, at(10 * ROTATION_MS))).toBe(false);
  });
});

describe('rotationNotice', () => {
  const until = new Date(NOW.getTime() + GRACE_MS).toISOString();

  it('goes to every contact and says where to fetch the new secret and until when the old one works', () => {
    const consumer = consumerFixture({ contacts: ['a@partner.example', 'b@partner.example'] });

    const email = rotationNotice(consumer, ISSUER, until);

    expect(email.to).toEqual(['a@partner.example', 'b@partner.example']);
    expect(email.subject).toBe(`[Gatehouse] Client secret rotated for FX dashboard: fetch the new one before ${until}`);
    expect(email.text).toContain(`The client secret of FX dashboard (${CLIENT_ID}) was rotated.`);
    expect(email.text).toContain(`GET ${ISSUER}/register/${CLIENT_ID}`);
    expect(email.text).toContain(`keeps working until ${until}`);
    expect(email.html).toBeUndefined();
  });

  it('carries neither a secret nor its hash', () => {
    const consumer = consumerFixture();

    const whole = JSON.stringify(rotationNotice(consumer, ISSUER, until));

    expect(whole).not.toContain(CLIENT_SECRET);
    expect(whole).not.toContain(consumer.secretHash!);
    expect(whole).not.toContain(consumer.registrationTokenHash);
  });

  it('encodes the client id in the registration URI', () => {
    const email = rotationNotice(consumerFixture({ clientId: 'gh_a b' }), ISSUER, until);

    expect(email.text).toContain(`GET ${ISSUER}/register/gh_a%20b`);
  });
});

describe('rotateClientSecret over a local staged secret', () => {
  let table: FakeTable;
  let services: ReturnType<typeof buildServices>;
  let secret: FileStagedSecret;

  const seed = (overrides: Partial<Consumer> = {}): void => {
    table.putConsumer(consumerFixture(overrides));
    table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  };

  const fresh = async (): Promise<void> => {
    ddb.reset();
    table = new FakeTable(ddb);
    services = buildServices({ jwks: { keys: [] } });
    secret = new FileStagedSecret();
    await secret.seedCurrent(SEED_ID, valueOf(CLIENT_SECRET));
    seed();
  };

  /** Whether the token endpoint would accept `presented` for CLIENT_ID right now. */
  const accepted = async (presented: string): Promise<boolean> =>
    authenticateClient(services, new ConsumerCache(services.consumers, services.clock, 0), {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${presented}`).toString('base64')}`,
      form: new URLSearchParams(),
      endpoint: 'token',
    }).then(
      () => true,
      () => false,
    );

  const valueAt = async (selector: { versionId: string } | { stage: string }) => parseClientSecretValue(await secret.read(selector)).clientSecret;

  beforeEach(fresh);
  afterEach(() => {
    ddb.reset();
  });

  it('rotates end to end: the new secret works at once, the old one until its grace window ends', async () => {
    await rotateClientSecretFully(TOKEN, secret, services);

    const rotated = await valueAt({ stage: STAGES.current });
    expect(rotated).not.toBe(CLIENT_SECRET);
    await expect(valueAt({ stage: STAGES.previous })).resolves.toBe(CLIENT_SECRET);
    await expect(accepted(rotated)).resolves.toBe(true);
    await expect(accepted(CLIENT_SECRET)).resolves.toBe(true);
    expect(services.log.info).toHaveBeenCalledWith('client authenticated with its previous secret', {
      clientId: CLIENT_ID,
      validUntil: new Date(NOW.getTime() + GRACE_MS).toISOString(),
    });

    services.clock.advance(GRACE_MS - 1);
    await expect(accepted(CLIENT_SECRET)).resolves.toBe(true);
    services.clock.advance(1);
    await expect(accepted(CLIENT_SECRET)).resolves.toBe(false);
    await expect(accepted(rotated)).resolves.toBe(true);
  });

  it('creates no new secret for a consumer that moved to private_key_jwt (its secret is due for deletion)', async () => {
    seed({ authMethod: 'private_key_jwt', secretHash: undefined, secretExpiresAt: undefined });

    await expect(rotateClientSecret('createSecret', TOKEN, secret, services)).rejects.toMatchObject({ code: 'consumer_not_rotatable' });
    await expect(secret.read({ versionId: TOKEN })).resolves.toBeUndefined();
  });

  it('accepts the new secret from setSecret on, before the store makes it current', async () => {
    await rotateClientSecret('createSecret', TOKEN, secret, services);
    const pending = await valueAt({ versionId: TOKEN });
    await expect(accepted(pending)).resolves.toBe(false);

    await rotateClientSecret('setSecret', TOKEN, secret, services);

    await expect(accepted(pending)).resolves.toBe(true);
    await expect(accepted(CLIENT_SECRET)).resolves.toBe(true);
    await expect(valueAt({ stage: STAGES.current })).resolves.toBe(CLIENT_SECRET);
  });

  it('refuses a second rotation inside the grace window, and after it drops the oldest secret', async () => {
    await rotateClientSecretFully(TOKEN, secret, services);
    const first = await valueAt({ stage: STAGES.current });

    await expect(rotateClientSecretFully('second', secret, services)).rejects.toMatchObject({ code: 'rotation_too_soon' });
    await expect(valueAt({ stage: STAGES.current })).resolves.toBe(first);
    await expect(secret.read({ versionId: 'second' })).resolves.toBeUndefined();

    services.clock.advance(GRACE_MS);
    await rotateClientSecretFully('second', secret, services);

    const second = await valueAt({ stage: STAGES.current });
    expect(new Set([CLIENT_SECRET, first, second]).size).toBe(3);
    await expect(accepted(second)).resolves.toBe(true);
    await expect(accepted(first)).resolves.toBe(true);
    await expect(accepted(CLIENT_SECRET)).resolves.toBe(false);
    expect(
      table
        .auditTrail(CLIENT_ID)
        .map((e) => e.type)
        .slice(2),
    ).toEqual(['credentials.rotation_started', 'credentials.rotated', 'credentials.rotation_started', 'credentials.rotated']);
  });

  it('keeps every secret the consumer may hold working, under any order and repetition of steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom<RotationStep>(...ROTATION_STEPS), { maxLength: 10 }), async (steps) => {
        await fresh();
        for (const step of steps) {
          try {
            await rotateClientSecret(step, TOKEN, secret, services);
          } catch (error) {
            // A step out of order is refused (not pending yet, or not staged in the registry yet); nothing else fails.
            expect(error).toBeInstanceOf(RotationError);
            expect(['version_not_pending', 'test_failed']).toContain((error as RotationError).code);
          }
          const consumer = (await services.consumers.getConsumer(CLIENT_ID))!;
          const hashes = [consumer.secretHash, consumer.pendingSecretHash].filter((h): h is string => h !== undefined);
          // What the store would deliver is always accepted by the registry…
          const current = await valueAt({ stage: STAGES.current });
          expect(hashes.some((h) => secretMatchesHash(current, h))).toBe(true);
          // …and so is the secret the consumer held before the rotation (current, or previous within its grace).
          const held = [consumer.secretHash, consumer.previousSecretHash].filter((h): h is string => h !== undefined);
          expect(held.some((h) => secretMatchesHash(CLIENT_SECRET, h))).toBe(true);
          expect((await secret.versions()).filter((v) => v.stages.includes(STAGES.current))).toHaveLength(1);
        }
        // Whatever happened before, running the four steps in order completes the rotation exactly once.
        await rotateClientSecretFully(TOKEN, secret, services);
        const consumer = (await services.consumers.getConsumer(CLIENT_ID))!;
        const rotated = await valueAt({ stage: STAGES.current });
        expect(rotated).not.toBe(CLIENT_SECRET);
        expect(secretMatchesHash(rotated, consumer.secretHash!)).toBe(true);
        expect(consumer.pendingSecretHash).toBeUndefined();
        expect(secretMatchesHash(CLIENT_SECRET, consumer.previousSecretHash!)).toBe(true);
        expect(table.auditTrail(CLIENT_ID).filter((e) => e.type === 'credentials.rotated')).toHaveLength(1);
      }),
      { numRuns: 60 },
    );
  });
});
