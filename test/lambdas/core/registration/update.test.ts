import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { deleteRegistration } from '../../../../lambdas/core/registration/delete.js';
import { updateRegistration } from '../../../../lambdas/core/registration/update.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, NOW, publicRegistration, REGISTRATION_TOKEN, reviewRegistration } from '../../fixtures.js';
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
