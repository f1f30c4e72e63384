import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyChain } from '../../../../lambdas/core/audit/event.js';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { deleteRegistration } from '../../../../lambdas/core/registration/delete.js';
import { FileClientSecrets } from '../../../../lambdas/adapters/local/file-client-secrets.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, NOW, REGISTRATION_TOKEN } from '../../fixtures.js';
import { buildServices, FakeTable, recordingMailer, type RecordingMailer } from '../../handlers/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

let table: FakeTable;
let mailer: RecordingMailer;
let secrets: FileClientSecrets;
let services: ReturnType<typeof buildServices>;

beforeEach(() => {
  table = new FakeTable(ddb);
  mailer = recordingMailer();
  secrets = new FileClientSecrets();
  services = buildServices({ jwks: { keys: [] }, mailer, clientSecrets: secrets });
});

afterEach(() => {
  ddb.reset();
  vi.restoreAllMocks();
});

function seed(consumer: Consumer): void {
  table.putConsumer(consumer);
  table.putAudit(auditTrailFor(consumer.clientId, NOW.toISOString()));
}

/** A registration waiting for its onboarding review, as register.ts stores it. */
const pending = (overrides: Partial<Consumer> = {}) =>
  consumerFixture({ status: 'pending_review', contacts: ['owner@partner.example'], secretHash: undefined, openReviewId: 'review-1', ...overrides });

describe('deleteRegistration of a registration under review', () => {
  it('withdraws it with an audit event by the consumer, voids its registration access token and tells its contacts', async () => {
    seed(pending());

    await deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN);

    const item = table.consumerItem(CLIENT_ID)!;
    expect(item).toMatchObject({ status: 'withdrawn' });
    expect(item['openReviewId']).toBeUndefined();
    expect(item['registrationTokenHash']).not.toBe(pending().registrationTokenHash);
    const trail = table.auditTrail(CLIENT_ID);
    expect(trail.at(-1)).toMatchObject({ type: 'consumer.withdrawn', actor: { kind: 'consumer', id: CLIENT_ID }, data: { reviewId: 'review-1' } });
    expect(verifyChain(trail, { seq: item['auditSeq'] as number, hash: item['auditHead'] as string })).toEqual({ ok: true });
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]).toMatchObject({ to: ['owner@partner.example'], subject: expect.stringContaining('withdrawn') });
    expect(mailer.sent[0]!.text).toContain('withdrawn by its requester');
    expect(services.metrics.total('RegistrationsDeleted')).toBe(1);
  });

  it('schedules a client secret the pending consumer holds for deletion, like a revoked one', async () => {
    seed(pending({ secretHash: 'hash-of-a-secret' }));
    const remove = vi.spyOn(secrets, 'remove').mockResolvedValue(undefined);

    await deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN);

    expect(remove).toHaveBeenCalledWith(CLIENT_ID);
  });

  it('removes no secret for a pending consumer that has none', async () => {
    seed(pending());
    const remove = vi.spyOn(secrets, 'remove');

    await deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN);

    expect(remove).not.toHaveBeenCalled();
  });

  it('answers 401 (invalid_token) to a second delete with the same token, and writes nothing', async () => {
    seed(pending());
    await deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN);
    const before = table.consumerItem(CLIENT_ID);
    const events = table.auditTrail(CLIENT_ID).length;

    await expect(deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN)).rejects.toMatchObject({ code: 'invalid_token' });

    expect(table.consumerItem(CLIENT_ID)).toEqual(before);
    expect(table.auditTrail(CLIENT_ID)).toHaveLength(events);
    expect(mailer.sent).toHaveLength(1);
    expect(services.metrics.total('RegistrationsDeleted')).toBe(1);
  });

  it('refuses (update_conflict) a registration whose review already ended, and writes nothing', async () => {
    seed(pending({ status: 'denied', openReviewId: undefined }));

    await expect(deleteRegistration(services, CLIENT_ID, REGISTRATION_TOKEN)).rejects.toMatchObject({ code: 'update_conflict' });

    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'denied' });
    expect(table.auditTrail(CLIENT_ID)).toHaveLength(2);
    expect(mailer.sent).toEqual([]);
    expect(services.metrics.snapshot()).toEqual([]);
  });
});
