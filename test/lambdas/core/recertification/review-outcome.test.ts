import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import type { ChangeRequest } from '../../../../lambdas/core/requests/change-request.js';
import { MAX_REOPENINGS } from '../../../../lambdas/core/recertification/due.js';
import { createReviewTaskHandler } from '../../../../lambdas/handlers/review-task.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, DAY_MS, defaultPolicy, HOUR_MS, NOW } from '../../fixtures.js';
import { buildServices, FakeTable, recordingMailer, type RecordingMailer } from '../../handlers/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const OWNER = 'api-owner@partner.example';
const ALICE = 'alice.reviewer@bank.example';
const REQUEST_ID = 'rec-0001';
const DUE = new Date(NOW.getTime() - 20 * DAY_MS).toISOString();
const LINKS = [{ email: OWNER, linkId: 'link-1' }];

let table: FakeTable;
let mailer: RecordingMailer;
let services: ReturnType<typeof buildServices>;
let run: ReturnType<typeof createReviewTaskHandler>;

/** A high-risk consumer whose owner attested 3 days ago, waiting for bank reviewers on REQUEST_ID. */
function seed(consumer: Partial<Consumer> = {}, request: Partial<ChangeRequest> = {}): void {
  const attestedAt = new Date(NOW.getTime() - 72 * HOUR_MS).toISOString();
  table.putConsumer(
    consumerFixture({
      risk: 'high',
      requirements: defaultPolicy.document.risks.high,
      contacts: [OWNER],
      recertification: {
        dueAt: DUE,
        links: LINKS,
        linksSentAt: DUE,
        pending: { at: attestedAt, linkId: 'link-1', attestedBy: OWNER, scopesRemoved: [], requestId: REQUEST_ID, until: NOW.toISOString() },
      },
      ...consumer,
    }),
  );
  table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  table.putRequest({
    requestId: REQUEST_ID,
    clientId: CLIENT_ID,
    type: 'recertification',
    status: 'pending_review',
    requestedBy: OWNER,
    justification: `attested by ${OWNER}`,
    risk: 'high',
    approvalsRequired: 2,
    approvals: [],
    reviewSlaHours: 72,
    createdAt: attestedAt,
    updatedAt: attestedAt,
    version: 2,
    ...request,
  });
}

beforeEach(() => {
  table = new FakeTable(ddb);
  mailer = recordingMailer();
  services = buildServices({ jwks: { keys: [] }, mailer });
  run = createReviewTaskHandler(services);
});

afterEach(() => {
  ddb.reset();
});

const stored = async () => (await services.consumers.getConsumer(CLIENT_ID))!;
const request = async () => (await services.requests.getRequest(CLIENT_ID, REQUEST_ID))!;
const newEvents = () => table.auditTrail(CLIENT_ID).slice(auditTrailFor(CLIENT_ID, NOW.toISOString()).length);
const outcomes = (outcome: string) => services.metrics.total('RecertificationOutcomes', { outcome } as never);
const revocation = () => table.items('REVOCATIONS').find((i) => i['sk'] === `CONSUMER#${CLIENT_ID}`);
const deny = () =>
  run({ action: 'deny', clientId: CLIENT_ID, requestId: REQUEST_ID, cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }) });

describe('the review workflow ending a high-risk recertification', () => {
  it('suspends the consumer when reviewers deny it, with reason recertification_denied, and lists it for resource servers', async () => {
    seed();

    await expect(deny()).resolves.toEqual({ status: 'denied' });

    expect(await request()).toMatchObject({ status: 'denied', outcomeReason: 'No contract on file' });
    const consumer = await stored();
    expect(consumer.status).toBe('suspended');
    expect(consumer.recertification?.pending).toBeUndefined();
    expect(consumer.recertification?.deniedSuspendedAt).toBe(NOW.toISOString());
    expect(newEvents().map((e) => [e.type, e.data['reason']])).toEqual([
      ['request.denied', 'No contract on file'],
      ['consumer.suspended', 'recertification_denied'],
    ]);
    expect(newEvents().at(-1)).toMatchObject({ actor: { kind: 'system', id: 'review-workflow' }, data: { requestId: REQUEST_ID } });
    expect(revocation()).toMatchObject({ status: 'suspended' });
    expect(outcomes('review_denied')).toBe(1);
  });

  it('writes nothing more when the deny step is retried', async () => {
    seed();
    await deny();
    const events = newEvents().length;

    await expect(deny()).resolves.toEqual({ status: 'denied' });

    expect(newEvents()).toHaveLength(events);
    expect(outcomes('review_denied')).toBe(1);
  });

  it('suspends a consumer whose request was denied by an earlier attempt that stopped before the suspension', async () => {
    seed({}, { status: 'denied', outcomeReason: 'No contract on file' });

    await deny();

    expect((await stored()).status).toBe('suspended');
    expect(newEvents().map((e) => e.type)).toEqual(['consumer.suspended']);
    // The request's outcome was counted by the attempt that recorded it.
    expect(outcomes('review_denied')).toBe(0);
  });

  it('leaves a consumer that is no longer active as it is, and only closes the request', async () => {
    seed({ status: 'suspended' });

    await deny();

    expect(await request()).toMatchObject({ status: 'denied' });
    expect(newEvents().map((e) => e.type)).toEqual(['request.denied']);
  });

  it('gives the owner a new window and clears the spent links when the review expires, instead of suspending', async () => {
    seed();

    await expect(run({ action: 'expire', clientId: CLIENT_ID, requestId: REQUEST_ID })).resolves.toEqual({ status: 'expired' });

    const consumer = await stored();
    expect(consumer.status).toBe('active');
    const until = new Date(NOW.getTime() + 14 * DAY_MS).toISOString();
    expect(consumer.recertification).toEqual({ dueAt: DUE, reopened: { count: 1, at: NOW.toISOString(), until, requestId: REQUEST_ID } });
    // Due with no links sent: the sweep's next run sends new ones.
    expect(Date.parse(consumer.attentionAt!)).toBeLessThanOrEqual(NOW.getTime());
    expect(newEvents().map((e) => e.type)).toEqual(['request.expired']);
    expect(newEvents()[0]!.data).toMatchObject({ requestId: REQUEST_ID, attestAgainBy: until });
    expect(revocation()).toBeUndefined();
    expect(outcomes('review_expired')).toBe(1);
  });

  it('reopens for a review that failed too, counted as review_failed', async () => {
    seed();

    await expect(run({ action: 'fail', clientId: CLIENT_ID, requestId: REQUEST_ID, error: { Error: 'boom' } })).resolves.toEqual({ status: 'failed' });

    expect((await stored()).recertification?.reopened).toMatchObject({ count: 1, requestId: REQUEST_ID });
    expect(outcomes('review_failed')).toBe(1);
  });

  it('gives no further window once MAX_REOPENINGS were given for the due date: the consumer is overdue', async () => {
    const earlier = { count: MAX_REOPENINGS, at: DUE, until: new Date(NOW.getTime() - DAY_MS).toISOString(), requestId: 'rec-earlier' };
    seed({
      recertification: {
        dueAt: DUE,
        links: LINKS,
        linksSentAt: DUE,
        reopened: earlier,
        pending: { at: DUE, linkId: 'link-1', attestedBy: OWNER, scopesRemoved: [], requestId: REQUEST_ID, until: NOW.toISOString() },
      },
    });

    await run({ action: 'expire', clientId: CLIENT_ID, requestId: REQUEST_ID });

    const consumer = await stored();
    expect(consumer.recertification).toEqual({ dueAt: DUE, links: LINKS, linksSentAt: DUE, reopened: earlier });
    expect(newEvents()[0]!.data).not.toHaveProperty('attestAgainBy');
    expect(Date.parse(consumer.attentionAt!)).toBeLessThanOrEqual(NOW.getTime());
  });

  it('tells the contacts why: declined with the reviewer’s reason and suspended, or a new link to come', async () => {
    seed();
    await deny();
    await run({ action: 'notify', clientId: CLIENT_ID, requestId: REQUEST_ID });
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.subject).toContain('recertification denied');
    expect(mailer.sent[0]!.text).toContain("was declined by the bank's reviewers. Reason: No contract on file");
    expect(mailer.sent[0]!.text).toContain('suspended (recertification_denied)');

    ddb.reset();
    table = new FakeTable(ddb);
    mailer.sent.length = 0;
    seed();
    await run({ action: 'expire', clientId: CLIENT_ID, requestId: REQUEST_ID });
    await run({ action: 'notify', clientId: CLIENT_ID, requestId: REQUEST_ID });
    expect(mailer.sent[0]!.subject).toContain('recertification expired');
    expect(mailer.sent[0]!.text).toContain('This is not held against');
    expect(mailer.sent[0]!.text).toContain('new attestation link');
  });
});

describe('the review workflow on a request whose consumer was revoked during its review', () => {
  it.each(['activate', 'deny', 'expire'] as const)('closes the request as ended on %s, applying and counting nothing', async (action) => {
    seed(
      { status: 'revoked' },
      {
        approvals: [
          { reviewer: ALICE, round: 1, at: NOW.toISOString() },
          { reviewer: 'bob.reviewer@bank.example', round: 2, at: NOW.toISOString() },
        ],
      },
    );

    await expect(run({ action, clientId: CLIENT_ID, requestId: REQUEST_ID, ...(action === 'deny' ? { cause: 'no' } : {}) })).resolves.toEqual({
      status: 'ended',
    });

    expect(await request()).toMatchObject({ status: 'ended', outcomeReason: expect.stringContaining('ended (revoked)') });
    expect(newEvents().map((e) => e.type)).toEqual(['request.ended']);
    expect((await stored()).status).toBe('revoked');
    expect(services.metrics.total('RecertificationOutcomes')).toBe(0);
    expect(services.metrics.total('ReviewLatency')).toBe(0);

    // A retried step finds the request ended and writes nothing more; the requester is not mailed about it.
    await run({ action, clientId: CLIENT_ID, requestId: REQUEST_ID });
    await run({ action: 'notify', clientId: CLIENT_ID, requestId: REQUEST_ID });
    expect(newEvents()).toHaveLength(1);
    expect(mailer.sent).toHaveLength(0);
  });

  it('asks for no further approval: the request ends and the workflow with it (Gatehouse.RequestEnded)', async () => {
    seed({ status: 'revoked' });

    await expect(run({ action: 'request_approval', clientId: CLIENT_ID, requestId: REQUEST_ID, taskToken: 'task-token' })).rejects.toMatchObject({
      name: 'Gatehouse.RequestEnded',
    });

    expect(await request()).toMatchObject({ status: 'ended' });
    expect(mailer.sent).toHaveLength(0);
  });
});
