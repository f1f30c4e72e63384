import { ServiceError } from '../../../../lambdas/core/errors.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { deleteRegistration } from '../../../../lambdas/core/registration/delete.js';
import { updateRegistration } from '../../../../lambdas/core/registration/update.js';
import { STAGES } from '../../../../lambdas/core/ports.js';
import { RegistryError } from '../../../../lambdas/core/registry/errors.js';
import { sha256B64u } from '../../../../lambdas/core/util/hash.js';
import { policyWith } from '../policy/fixtures.js';
import {
  auditTrailFor,
  CLIENT_ID,
  CLIENT_SECRET,
  consumerFixture,
  NOW,
  publicRegistration,
  REGISTRATION_EXPIRES_AT,
  REGISTRATION_TOKEN,
  reviewRegistration,
} from '../../fixtures.js';
import { buildServices, FakeTable, statementSigner, type StatementSigner } from '../../handlers/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

let signer: StatementSigner;
let clientJwk: JWK;
let table: FakeTable;
let services: ReturnType<typeof buildServices>;

beforeAll(async () => {
  signer = await statementSigner();
  clientJwk = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'client-key-1', alg: 'ES256' };
});

beforeEach(() => {
  table = new FakeTable(ddb);
  services = buildServices({ jwks: signer.jwks });
});

afterEach(() => {
  ddb.reset();
});

function seed(consumer: Consumer): void {
  table.putConsumer(consumer);
  table.putAudit(auditTrailFor(consumer.clientId, NOW.toISOString()));
}

/** A partner consumer with a key-bound client and a software statement, holding low-risk reference data only. */
function partnerConsumer(): Consumer {
  return consumerFixture({
    clientName: 'Treasury sync',
    tier: 'partner',
    purpose: 'Reconcile business account balances every night',
    contacts: ['owner@partner.example'],
    authMethod: 'private_key_jwt',
    jwks: { keys: [clientJwk as never] },
    secretHash: undefined,
    secretExpiresAt: undefined,
    softwareId: 'treasury-sync',
    statementSoftwareId: 'treasury-sync',
  });
}

const update = (body: Record<string, unknown>, token = REGISTRATION_TOKEN) =>
  updateRegistration(services, CLIENT_ID, token, () => ({ client_id: CLIENT_ID, ...body }));

const updates = (outcome?: 'applied' | 'review' | 'denied' | 'conflict') => services.metrics.total('RegistrationUpdates', outcome ? { outcome } : {});

describe('updateRegistration metrics', () => {
  it('counts an update that narrows access as applied (200)', async () => {
    seed(consumerFixture());

    const result = await update(publicRegistration({ client_name: 'FX dashboard v2' }));

    expect(result.statusCode).toBe(200);
    expect(updates('applied')).toBe(1);
    expect(updates()).toBe(1);
  });

  it('counts an update that extends access and needs reviewers as review (202)', async () => {
    seed(partnerConsumer());
    const statement = await signer.sign({ software_id: 'treasury-sync', tier: 'partner', org_name: 'Partner Ltd' });

    const result = await update(
      reviewRegistration(clientJwk, statement, { scope: 'reference-data:read accounts:read', data_classes: ['public', 'confidential'] }),
    );

    expect(result.statusCode).toBe(202);
    expect(updates('review')).toBe(1);
    expect(updates()).toBe(1);
  });

  it('counts an update the policy denies as denied', async () => {
    seed(consumerFixture());

    await expect(update(publicRegistration({ scope: 'reference-data:read accounts:read', data_classes: ['public', 'confidential'] }))).rejects.toMatchObject({
      code: 'access_denied',
    });

    expect(updates('denied')).toBe(1);
    expect(updates()).toBe(1);
  });

  it('counts an update of a registration that cannot change now as conflict', async () => {
    seed(consumerFixture({ status: 'pending_review' }));

    await expect(update(publicRegistration({ client_name: 'FX dashboard v2' }))).rejects.toMatchObject({ code: 'update_conflict' });

    expect(updates('conflict')).toBe(1);
    expect(updates()).toBe(1);
  });

  it('counts nothing for a caller without the registration access token, or for a malformed update', async () => {
    seed(consumerFixture());

    await expect(update(publicRegistration({ client_name: 'FX dashboard v2' }), 'not-the-token')).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(update(publicRegistration({ client_id: 'gh_someoneElse0000000' }))).rejects.toMatchObject({ code: 'invalid_client_metadata' });
    await expect(update(publicRegistration({ expires_at: undefined }))).rejects.toMatchObject({ code: 'invalid_client_metadata' });

    expect(services.metrics.snapshot()).toEqual([]);
  });
});

describe('deleteRegistration metrics', () => {
  it('counts a registration the consumer deleted, once it is revoked', async () => {
    seed(consumerFixture());

    await deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN);

    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'revoked' });
    expect(services.metrics.total('RegistrationsDeleted')).toBe(1);
  });

  it('counts nothing for a delete without the registration access token, or of a registration whose review ended', async () => {
    seed(consumerFixture());
    await expect(deleteRegistration(services, CLIENT_ID, 'not-the-token')).rejects.toMatchObject({ code: 'invalid_token' });
    seed(consumerFixture({ status: 'denied' }));
    await expect(deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN)).rejects.toMatchObject({ code: 'update_conflict' });

    expect(services.metrics.snapshot()).toEqual([]);
  });
});

describe('updateRegistration: a change of token_endpoint_auth_method', () => {
  const DAY = 86_400_000;
  const toKey = (overrides: Record<string, unknown> = {}) =>
    update(publicRegistration({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] }, ...overrides }));
  const keyBound = (overrides: Partial<Consumer> = {}) =>
    consumerFixture({ authMethod: 'private_key_jwt', jwks: { keys: [clientJwk as never] }, secretHash: undefined, secretExpiresAt: undefined, ...overrides });
  const stored = () => services.clientSecrets.staged(CLIENT_ID).read({ stage: STAGES.current });
  const storeSecret = () => services.clientSecrets.create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90);

  it('moves a secret client to keys: the secret is retired for the policy grace (7 days), scheduled for deletion and not returned', async () => {
    seed(consumerFixture());
    await storeSecret();

    const result = await toKey();

    expect(result.statusCode).toBe(200);
    expect(result.body).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] } });
    expect(result.body).not.toHaveProperty('client_secret');
    expect(result.body).not.toHaveProperty('client_secret_expires_at');
    const item = table.consumerItem(CLIENT_ID)!;
    expect(item).toMatchObject({
      authMethod: 'private_key_jwt',
      previousSecretHash: sha256B64u(CLIENT_SECRET),
      previousSecretExpiresAt: new Date(NOW.getTime() + 7 * DAY).toISOString(),
    });
    expect(item['secretHash']).toBeUndefined();
    expect(item['secretExpiresAt']).toBeUndefined();
    expect(await stored()).toBeUndefined();
    expect(updates('applied')).toBe(1);
  });

  it('gives a secret reported compromised no grace when the client moves to keys', async () => {
    seed(consumerFixture({ secretCompromisedAt: NOW.toISOString() }));

    await toKey();

    const item = table.consumerItem(CLIENT_ID)!;
    expect(item['previousSecretHash']).toBeUndefined();
    expect(item['secretCompromisedAt']).toBeUndefined();
  });

  it('moves a key-bound client to a secret: a new secret, stored first and returned once; the keys retired for 24 h', async () => {
    seed(keyBound());

    const result = await update(publicRegistration({ token_endpoint_auth_method: 'client_secret_basic' }));

    expect(result.statusCode).toBe(200);
    const secret = String(result.body['client_secret']);
    expect(result.body).toMatchObject({
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_expires_at: Date.parse(REGISTRATION_EXPIRES_AT) / 1000,
    });
    expect(result.body).not.toHaveProperty('jwks');
    expect(JSON.parse(String(await stored()))).toEqual({ clientId: CLIENT_ID, clientSecret: secret });
    const item = table.consumerItem(CLIENT_ID)!;
    expect(item).toMatchObject({
      authMethod: 'client_secret_basic',
      secretHash: sha256B64u(secret),
      secretExpiresAt: REGISTRATION_EXPIRES_AT,
      retiredKeys: [{ key: clientJwk, until: new Date(NOW.getTime() + DAY).toISOString() }],
    });
    expect(item['jwks']).toBeUndefined();
  });

  it("refuses a move to a secret the consumer's risk does not allow, through the policy: 403, no secret stored, nothing written", async () => {
    seed(
      keyBound({
        tier: 'partner',
        scopes: ['accounts:read'],
        dataClasses: ['confidential'],
        risk: 'medium',
        purpose: 'Reconcile business account balances every night',
        contacts: ['owner@partner.example'],
        softwareId: 'treasury-sync',
        statementSoftwareId: 'treasury-sync',
      }),
    );
    const before = structuredClone(table.consumerItem(CLIENT_ID));
    const statement = await signer.sign({ software_id: 'treasury-sync', tier: 'partner', org_name: 'Partner Ltd' });

    await expect(
      update(reviewRegistration(clientJwk, statement, { token_endpoint_auth_method: 'client_secret_basic', jwks: undefined })),
    ).rejects.toMatchObject({
      code: 'access_denied',
      decision: { reasons: expect.arrayContaining([expect.objectContaining({ code: 'auth_method_too_weak' })]) },
    });

    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
    expect(await stored()).toBeUndefined();
    expect(updates('denied')).toBe(1);
  });

  it("applies the tier's allowed methods to a move to keys, though it needs no review", async () => {
    services = { ...services, policy: policyWith((doc) => void (doc.tiers.public.authMethods = ['client_secret_basic', 'client_secret_post'])) };
    seed(consumerFixture());
    const before = structuredClone(table.consumerItem(CLIENT_ID));

    await expect(toKey()).rejects.toMatchObject({
      code: 'access_denied',
      decision: { reasons: [expect.objectContaining({ code: 'auth_method_not_allowed_for_tier' })] },
    });
    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
  });

  it('refuses a move to keys bundled with changes that need review, naming them', async () => {
    seed(consumerFixture({ tier: 'partner', purpose: 'Reconcile business account balances every night', contacts: ['owner@partner.example'] }));
    const before = structuredClone(table.consumerItem(CLIENT_ID));
    const statement = await signer.sign({ software_id: 'treasury-sync', tier: 'partner', org_name: 'Partner Ltd' });

    const refusal = update(reviewRegistration(clientJwk, statement));

    await expect(refusal).rejects.toMatchObject({ code: 'invalid_client_metadata', field: 'token_endpoint_auth_method' });
    await expect(refusal).rejects.toThrow(/add scope accounts:read/);
    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
  });

  it('refuses a move to keys while a rotation of the secret is under way (update_conflict)', async () => {
    seed(consumerFixture({ pendingSecretHash: sha256B64u('a-pending-secret-that-is-long-enough') }));

    await expect(toKey()).rejects.toMatchObject({ code: 'update_conflict' });
  });

  it('answers 503 and writes nothing when the new secret cannot be stored', async () => {
    seed(keyBound());
    const before = structuredClone(table.consumerItem(CLIENT_ID));
    vi.spyOn(services.clientSecrets, 'create').mockRejectedValue(Object.assign(new Error('down'), { name: 'InternalServiceError' }));

    await expect(update(publicRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).rejects.toMatchObject({ code: 'dependency_unavailable' });

    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
  });

  it('answers update_conflict, writes nothing and removes nothing when a concurrent move stored its secret first', async () => {
    seed(keyBound());
    const before = structuredClone(table.consumerItem(CLIENT_ID));
    vi.spyOn(services.clientSecrets, 'create').mockRejectedValue(new ServiceError('conflict', 'A client secret for it is already stored.'));
    const discard = vi.spyOn(services.clientSecrets, 'discard');

    await expect(update(publicRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).rejects.toMatchObject({ code: 'update_conflict' });

    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
    // The stored secret is the winner's: this request must not delete it.
    expect(discard).not.toHaveBeenCalled();
  });

  it('removes the new secret again when the registry refuses the update, and keeps it when the outcome is unknown', async () => {
    seed(keyBound());
    const updateConsumer = vi.spyOn(services.consumers, 'updateConsumer').mockRejectedValueOnce(new RegistryError('unavailable', 'down'));

    await expect(update(publicRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).rejects.toMatchObject({ code: 'unavailable' });
    expect(await stored()).toBeUndefined();

    updateConsumer.mockRejectedValueOnce(new RegistryError('unavailable', 'timed out', { outcomeUnknown: true }));
    await expect(update(publicRegistration({ token_endpoint_auth_method: 'client_secret_basic' }))).rejects.toMatchObject({ code: 'unavailable' });
    expect(await stored()).toBeDefined();
  });
});
