import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { consoleLog } from '../../../lambdas/adapters/local/console-log.js';
import { verifyChain, type AuditEvent } from '../../../lambdas/core/audit/event.js';
import type { ReviewerGroups } from '../../../lambdas/core/config.js';
import type { Consumer, ConsumerStatus } from '../../../lambdas/core/consumer/consumer.js';
import { ReviewError } from '../../../lambdas/core/review/errors.js';
import { RequestEnded } from '../../../lambdas/core/review/request-ended.js';
import { verifyReviewLink } from '../../../lambdas/core/review/link-token.js';
import type { Review } from '../../../lambdas/core/review/review.js';
import { SigningKeyCache } from '../../../lambdas/core/tokens/signing-keys.js';
import { sha256Hex } from '../../../lambdas/core/util/hash.js';
import { createReviewTaskHandler } from '../../../lambdas/handlers/review-task.js';
import { defaultPolicy } from '../core/policy/fixtures.js';
import { ALICE, BOB, DANA, OPS, pendingConsumer, TASK_TOKEN } from '../core/review/fixtures.js';
import { auditTrailFor, CLIENT_ID, HOUR_MS, NOW, recordingLog } from '../fixtures.js';
import { buildServices, FakeTable, ISSUER, recordingMailer, TABLE, type RecordingMailer } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
/** The review id request-approval derives from the task token (so a retried task finds its round). */
const ROUND_1 = sha256Hex(`review:${TASK_TOKEN}`).slice(0, 32);
const LINK = new RegExp(`${ISSUER.replaceAll('.', '\\.')}/reviews/([0-9a-f]{32})\\?t=([A-Za-z0-9_.%-]+)`, 'g');

let table: FakeTable;
let mailer: RecordingMailer;
let services: ReturnType<typeof buildServices>;
let keys: SigningKeyCache;
let run: ReturnType<typeof createReviewTaskHandler>;

/** Builds the handler over the fake table with these reviewer groups, and seeds the consumer and its audit trail. */
function setUp(consumer: Partial<Consumer> = {}, reviewers: ReviewerGroups = { default: [ALICE, BOB, DANA] }): void {
  services = buildServices({ jwks: { keys: [] }, mailer, config: { reviewers } });
  keys = new SigningKeyCache(services.vault, services.clock);
  run = createReviewTaskHandler(services);
  table.putConsumer(pendingConsumer({ openReviewId: undefined, ...consumer }));
  table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
}

beforeEach(() => {
  table = new FakeTable(ddb);
  mailer = recordingMailer();
});

afterEach(() => {
  ddb.reset();
});

const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
const writes = () => ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand));
const trail = (): AuditEvent[] =>
  table
    .items(`CONSUMER#${CLIENT_ID}`)
    .filter((i) => i['kind'] === 'audit')
    .sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])))
    .map(({ pk: _pk, sk: _sk, kind: _kind, ...e }) => e as unknown as AuditEvent);
const storedReview = (id = ROUND_1) => {
  const item = table.reviewItem(id);
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, kind: _kind, ...review } = item;
  return review as unknown as Review;
};
/** Every review link in an email's text, as [reviewId, token]. */
const linksIn = (text: string) => [...text.matchAll(LINK)].map((m) => [m[1]!, decodeURIComponent(m[2]!)] as const);

describe('createReviewTaskHandler when mail fails', () => {
  const refuse = () => {
    const error = new Error('Email address is not verified.');
    error.name = 'MessageRejected';
    throw error;
  };

  it('throws Gatehouse.MailUnavailable for the workflow to retry when no reviewer email went out, and logs each failure', async () => {
    mailer = { sent: [], send: async () => refuse() };
    setUp();
    const log = recordingLog();
    run = createReviewTaskHandler({ ...services, log });
    await expect(run({ action: 'request_approval', clientId: CLIENT_ID, requestId: null, taskToken: TASK_TOKEN })).rejects.toMatchObject({
      name: 'Gatehouse.MailUnavailable',
    });
    const lines = log.error.mock.calls.filter(([m]) => m === 'reviewer email not sent');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines[0]![1]).toMatchObject({ clientId: CLIENT_ID, reviewId: ROUND_1, error: 'MessageRejected' });
  });

  it('keeps the round when at least one reviewer was emailed', async () => {
    let first = true;
    const sent: Parameters<RecordingMailer['send']>[0][] = [];
    mailer = {
      sent,
      send: async (email) => {
        if (first) {
          first = false;
          refuse();
        }
        sent.push(email);
      },
    };
    setUp();
    await expect(run({ action: 'request_approval', clientId: CLIENT_ID, requestId: null, taskToken: TASK_TOKEN })).resolves.toEqual({
      status: 'review_round_1',
    });
    expect(sent.length).toBeGreaterThan(0);
  });

  it('throws Gatehouse.MailUnavailable when the outcome email cannot be sent', async () => {
    mailer = { sent: [], send: async () => refuse() };
    setUp({ status: 'active' });
    await expect(run({ action: 'notify', clientId: CLIENT_ID, requestId: null })).rejects.toMatchObject({ name: 'Gatehouse.MailUnavailable' });
  });
});

describe('createReviewTaskHandler count_approvals', () => {
  const sla = defaultPolicy.document.risks.high.reviewSlaHours;

  it('reports no approvals and the time left of the one deadline, writing nothing', async () => {
    setUp();
    const startedAt = new Date(NOW.getTime() - HOUR_MS).toISOString();
    const result = await run({ action: 'count_approvals', clientId: CLIENT_ID, requestId: null, startedAt });
    expect(result).toEqual({ status: 'counted', approvalsGranted: 0, remainingSeconds: (sla - 1) * 3600 });
    expect(writes()).toEqual([]);
    expect(mailer.sent).toEqual([]);
  });

  it('reports approvals already recorded, so a resumed review activates instead of asking again', async () => {
    setUp({
      approvals: [
        { reviewer: ALICE, round: 1, at: NOW.toISOString() },
        { reviewer: BOB, round: 2, at: NOW.toISOString() },
      ],
    });
    const result = await run({ action: 'count_approvals', clientId: CLIENT_ID, requestId: null, startedAt: NOW.toISOString() });
    expect(result).toMatchObject({ approvalsGranted: 2 });
  });

  it('answers a review past its deadline with the shortest wait, so it times out and expires', async () => {
    setUp();
    const startedAt = new Date(NOW.getTime() - (sla + 5) * HOUR_MS).toISOString();
    expect(await run({ action: 'count_approvals', clientId: CLIENT_ID, requestId: null, startedAt })).toMatchObject({ remainingSeconds: 1 });
  });
});

describe('createReviewTaskHandler', () => {
  describe('request_approval', () => {
    it('writes its log lines with the workflow execution as correlation_id, the consumer and the step', async () => {
      setUp();
      const lines: string[] = [];
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
      try {
        run = createReviewTaskHandler({ ...services, log: consoleLog() });
        await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });
      } finally {
        stderr.mockRestore();
      }

      const requested = lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l['message'] === 'review requested');
      expect(requested).toMatchObject({ correlation_id: `review-${CLIENT_ID}`, clientId: CLIENT_ID, action: 'request_approval', round: 1 });
    });

    it('stores one review round with the consumer update and its audit event in one transaction', async () => {
      setUp();

      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN })).resolves.toEqual({ status: 'review_round_1' });

      expect(transactions()).toHaveLength(1);
      const [put, consumer, audit, ...rest] = transactions()[0]!;
      expect(rest).toHaveLength(0);
      expect(put!.Put).toEqual({
        TableName: TABLE,
        Item: {
          pk: `REVIEW#${ROUND_1}`,
          sk: 'REVIEW',
          kind: 'review',
          reviewId: ROUND_1,
          clientId: CLIENT_ID,
          round: 1,
          approvalsRequired: 2,
          taskToken: TASK_TOKEN,
          reviewers: [
            { email: ALICE, linkId: expect.any(String) },
            { email: BOB, linkId: expect.any(String) },
          ],
          status: 'open',
          createdAt: NOW.toISOString(),
          deadline: new Date(NOW.getTime() + 72 * HOUR_MS).toISOString(),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      expect(consumer!.Update!.Key).toEqual({ pk: `CONSUMER#${CLIENT_ID}`, sk: 'CONSUMER' });
      expect(consumer!.Update!.ExpressionAttributeValues).toMatchObject({ ':expectSeq': 2, ':s0': 'pending_review' });
      expect(audit!.Put!.Item).toMatchObject({
        pk: `CONSUMER#${CLIENT_ID}`,
        sk: 'AUDIT#0000000003',
        type: 'consumer.review_requested',
        actor: { kind: 'system', id: 'review-workflow' },
        data: { reviewId: ROUND_1, round: 1, reviewers: [ALICE, BOB], deadline: new Date(NOW.getTime() + 72 * HOUR_MS).toISOString() },
      });
      expect(JSON.stringify(audit!.Put!.Item)).not.toContain(TASK_TOKEN);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'pending_review', openReviewId: ROUND_1 });
      expect(verifyChain(trail())).toEqual({ ok: true });
    });

    it('emails every eligible reviewer exactly one link of their own', async () => {
      setUp();

      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });

      expect(mailer.sent.map((m) => m.to)).toEqual([[ALICE], [BOB]]);
      const stored = storedReview()!;
      for (const email of mailer.sent) {
        const reviewer = email.to[0]!;
        const links = linksIn(email.text);
        expect(links).toHaveLength(1);
        const [reviewId, token] = links[0]!;
        expect(reviewId).toBe(ROUND_1);
        expect(email.text).toContain(`${ISSUER}/reviews/${ROUND_1}?t=${encodeURIComponent(token)}`);
        expect(email.html).toContain(`href="${ISSUER}/reviews/${ROUND_1}?t=${encodeURIComponent(token)}"`);
        const claims = await verifyReviewLink(keys, ISSUER, token, ROUND_1, NOW);
        expect(claims).toEqual({ reviewId: ROUND_1, reviewer, linkId: stored.reviewers.find((r) => r.email === reviewer)!.linkId });
        expect(email.subject).toContain('approval 1 of 2');
        expect(email.text).not.toContain(TASK_TOKEN);
      }
      expect(new Set(stored.reviewers.map((r) => r.linkId)).size).toBe(2);
    });

    it('never asks a reviewer who is one of the requester’s contacts, whatever the casing', async () => {
      setUp({ contacts: [OPS, 'DANA.Reviewer@BANK.example'] });

      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });

      expect(mailer.sent.flatMap((m) => m.to)).not.toContain(DANA);
      expect(storedReview()!.reviewers.map((r) => r.email)).toEqual([ALICE, BOB]);
    });

    it('asks only reviewers who have not approved yet in the next round', async () => {
      setUp({ approvals: [{ reviewer: 'Alice.Reviewer@bank.example', round: 1, at: NOW.toISOString() }] });

      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: 'sfn-task-token-round-2' })).resolves.toEqual({
        status: 'review_round_2',
      });

      const round2 = sha256Hex('review:sfn-task-token-round-2').slice(0, 32);
      expect(mailer.sent.map((m) => m.to)).toEqual([[BOB]]);
      expect(mailer.sent[0]!.subject).toContain('approval 2 of 2');
      expect(storedReview(round2)).toMatchObject({ round: 2, reviewers: [{ email: BOB }] });
    });

    it('gives a later round the deadline of the first: the execution start plus the review SLA, not its own start', async () => {
      // Round 1 was opened when the execution started and approved since; round 2 opens 30 hours later.
      const startedAt = NOW.toISOString();
      const sla = pendingConsumer().requirements.reviewSlaHours * HOUR_MS;
      setUp({ approvals: [{ reviewer: ALICE, round: 1, at: new Date(NOW.getTime() + 29 * HOUR_MS).toISOString() }] });
      services.clock.advance(30 * HOUR_MS);
      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: 'sfn-task-token-round-2', startedAt });

      const round2 = storedReview(sha256Hex('review:sfn-task-token-round-2').slice(0, 32))!;
      expect(round2.round).toBe(2);
      expect(round2.deadline).toBe(new Date(NOW.getTime() + sla).toISOString());
      // The link mailed for round 2 expires with the request's deadline too.
      const [, token] = linksIn(mailer.sent.at(-1)!.text)[0]!;
      await expect(verifyReviewLink(keys, ISSUER, token, round2.reviewId, new Date(Date.parse(round2.deadline) + 1000))).rejects.toThrow();
    });

    it('keeps the deadline when the workflow retries a round with a new task token later', async () => {
      setUp();
      const startedAt = NOW.toISOString();
      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN, startedAt });
      const first = storedReview()!;
      expect(first.deadline).toBe(new Date(NOW.getTime() + pendingConsumer().requirements.reviewSlaHours * HOUR_MS).toISOString());

      services.clock.advance(2 * HOUR_MS);
      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: 'sfn-task-token-retry', startedAt });

      const retried = storedReview(sha256Hex('review:sfn-task-token-retry').slice(0, 32))!;
      expect(retried.round).toBe(1);
      expect(retried.createdAt).toBe(services.clock.now().toISOString());
      expect(retried.deadline).toBe(first.deadline);
    });

    it('refuses a start time that is not an ISO timestamp, writing nothing', async () => {
      setUp();
      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN, startedAt: 'yesterday' })).rejects.toThrow();
      expect(writes()).toHaveLength(0);
    });

    it('asks the group for the consumer’s risk when there is one', async () => {
      setUp({}, { default: [ALICE], high: [BOB, 'carol.reviewer@bank.example'] });

      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });

      expect(mailer.sent.map((m) => m.to)).toEqual([[BOB], ['carol.reviewer@bank.example']]);
    });

    it('is idempotent for a task token: a retry sends the emails again and stores nothing new', async () => {
      setUp();
      await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });
      const first = storedReview();

      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN })).resolves.toEqual({ status: 'review_round_1' });

      expect(transactions()).toHaveLength(1);
      expect(storedReview()).toEqual(first);
      expect(trail().filter((e) => e.type === 'consumer.review_requested')).toHaveLength(1);
      expect(mailer.sent.map((m) => m.to)).toEqual([[ALICE], [BOB], [ALICE], [BOB]]);
      const resent = await verifyReviewLink(keys, ISSUER, linksIn(mailer.sent[2]!.text)[0]![1], ROUND_1, NOW);
      expect(resent.linkId).toBe(first!.reviewers[0]!.linkId);
    });

    it('uses the round a concurrent retry of the same task stored first', async () => {
      setUp();
      ddb.on(TransactWriteCommand).callsFake(() => {
        table.putReview({
          reviewId: ROUND_1,
          clientId: CLIENT_ID,
          round: 1,
          approvalsRequired: 2,
          taskToken: TASK_TOKEN,
          reviewers: [{ email: BOB, linkId: 'stored-by-the-other-attempt' }],
          status: 'open',
          createdAt: NOW.toISOString(),
          deadline: new Date(NOW.getTime() + 72 * HOUR_MS).toISOString(),
        });
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
        });
      });

      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN })).resolves.toEqual({ status: 'review_round_1' });

      expect(mailer.sent.map((m) => m.to)).toEqual([[BOB]]);
      await expect(verifyReviewLink(keys, ISSUER, linksIn(mailer.sent[0]!.text)[0]![1], ROUND_1, NOW)).resolves.toMatchObject({
        linkId: 'stored-by-the-other-attempt',
      });
    });

    it.each<[string, Partial<Consumer>, ReviewerGroups]>([
      ['every reviewer is a contact', {}, { default: [DANA] }],
      ['every reviewer is a contact or approved already', { approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString() }] }, { default: [ALICE, DANA] }],
      ['the group is empty', {}, { default: [] }],
      ['one reviewer is left for the two approvals still needed', {}, { default: [ALICE, DANA] }],
      ['the only other reviewer is a contact under a +tag', {}, { default: [ALICE, BOB], high: [ALICE, 'dana.reviewer+x@bank.example'] }],
    ])('throws no_eligible_reviewer when %s, writing and sending nothing', async (_case, consumer, reviewers) => {
      setUp(consumer, reviewers);

      const error = await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ReviewError);
      expect(error).toMatchObject({ code: 'no_eligible_reviewer' });
      expect(writes()).toHaveLength(0);
      expect(mailer.sent).toHaveLength(0);
    });

    it.each<ConsumerStatus>(['denied', 'withdrawn', 'active'])(
      'ends the workflow (Gatehouse.RequestEnded) for a consumer %s before its next round, writing and sending nothing',
      async (status) => {
        setUp({ status });

        const error = await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN }).catch((e: unknown) => e);

        expect(error).toBeInstanceOf(RequestEnded);
        expect(error).toMatchObject({ name: 'Gatehouse.RequestEnded', code: 'request_ended' });
        expect(writes()).toHaveLength(0);
        expect(mailer.sent).toHaveLength(0);
      },
    );

    it('opens no round for an approval that arrives after the requester withdrew a high-risk request, even on a retried task', async () => {
      // ALICE's approval of round 1 was recorded; the withdrawal came before the workflow asked for the second one.
      setUp({ status: 'withdrawn', approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString() }], openReviewId: undefined });

      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN })).rejects.toMatchObject({ name: 'Gatehouse.RequestEnded' });
      }

      expect(storedReview()).toBeUndefined();
      expect(writes()).toHaveLength(0);
      expect(mailer.sent).toHaveLength(0);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'withdrawn' });
    });
  });

  describe('closing actions', () => {
    const approvals = [
      { reviewer: ALICE, round: 1, at: NOW.toISOString() },
      { reviewer: BOB, round: 2, at: NOW.toISOString() },
    ];

    it('activates an approved consumer, naming its approvers in the audit event, and drops the open review', async () => {
      setUp({ approvals, openReviewId: ROUND_1 });

      await expect(run({ action: 'activate', clientId: CLIENT_ID })).resolves.toEqual({ status: 'active' });

      expect(transactions()).toHaveLength(1);
      expect(transactions()[0]![0]!.Update!.UpdateExpression).toMatch(/ REMOVE #f0$/);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'active', approvals });
      expect(table.consumerItem(CLIENT_ID)).not.toHaveProperty('openReviewId');
      expect(table.consumerItem(CLIENT_ID)).not.toHaveProperty('outcomeReason');
      expect(trail().at(-1)).toMatchObject({
        type: 'consumer.activated',
        actor: { kind: 'system', id: 'review-workflow' },
        data: { by: 'review', approvers: [ALICE, BOB] },
      });
      expect(verifyChain(trail())).toEqual({ ok: true });
    });

    it.each<[string, Record<string, unknown>, ConsumerStatus, AuditEvent['type'], Record<string, unknown>, string]>([
      [
        'denies with the reviewer’s comment from the SendTaskFailure cause',
        { action: 'deny', cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }) },
        'denied',
        'consumer.denied',
        { reason: 'No contract on file' },
        'No contract on file',
      ],
      [
        'denies with a cause that is not JSON as written',
        { action: 'deny', cause: 'plain words' },
        'denied',
        'consumer.denied',
        { reason: 'plain words' },
        'plain words',
      ],
      [
        'denies with a generic reason when the cause has no comment',
        { action: 'deny', cause: JSON.stringify({ reviewer: ALICE, comment: '' }) },
        'denied',
        'consumer.denied',
        { reason: 'Denied by a reviewer.' },
        'Denied by a reviewer.',
      ],
      [
        'denies with a generic reason when there is no cause',
        { action: 'deny' },
        'denied',
        'consumer.denied',
        { reason: 'Denied by a reviewer.' },
        'Denied by a reviewer.',
      ],
      [
        'expires a request nobody decided',
        { action: 'expire' },
        'expired',
        'consumer.expired',
        { reason: 'review_sla_elapsed' },
        'No decision was made within the review period.',
      ],
      [
        'fails a request the workflow could not complete',
        { action: 'fail', error: { Error: 'States.TaskFailed', Cause: 'boom' } },
        'failed',
        'consumer.review_failed',
        { error: JSON.stringify({ Error: 'States.TaskFailed', Cause: 'boom' }) },
        'The review could not be completed.',
      ],
    ])('%s', async (_case, task, status, type, data, outcomeReason) => {
      setUp({ openReviewId: ROUND_1 });

      await expect(run({ ...task, clientId: CLIENT_ID })).resolves.toEqual({ status });

      expect(transactions()).toHaveLength(1);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status, outcomeReason });
      expect(table.consumerItem(CLIENT_ID)).not.toHaveProperty('openReviewId');
      expect(trail().at(-1)).toMatchObject({ type, data, actor: { kind: 'system', id: 'review-workflow' } });
      expect(verifyChain(trail())).toEqual({ ok: true });
      expect(mailer.sent).toHaveLength(0);
    });

    it('keeps at most 1000 characters of a workflow error in the audit trail', async () => {
      setUp();

      await run({ action: 'fail', clientId: CLIENT_ID, error: 'x'.repeat(5000) });

      expect(String(trail().at(-1)!.data['error'])).toHaveLength(1000);
    });

    it.each([{ action: 'activate' }, { action: 'deny', cause: 'again' }, { action: 'expire' }, { action: 'fail', error: 'again' }])(
      'is idempotent on a retried %j: a second run writes nothing',
      async (task) => {
        setUp();
        await run({ ...task, clientId: CLIENT_ID });
        ddb.resetHistory();

        await run({ ...task, clientId: CLIENT_ID });

        expect(writes()).toHaveLength(0);
      },
    );

    it.each([
      ['activate', { action: 'activate' }, 'approved'],
      ['deny', { action: 'deny', cause: 'no' }, 'denied'],
      ['expire', { action: 'expire' }, 'expired'],
    ] as const)('records the review latency of an onboarding on %s, once across retries', async (_action, task, outcome) => {
      setUp({ openReviewId: ROUND_1 });
      services.clock.advance(26 * HOUR_MS + 1500);

      await run({ ...task, clientId: CLIENT_ID });
      await run({ ...task, clientId: CLIENT_ID });

      expect(services.metrics.snapshot()).toEqual([
        {
          name: 'ReviewLatency',
          unit: 'Seconds',
          dimensions: { kind: 'onboarding', outcome },
          sum: 26 * 3600 + 1.5,
          count: 1,
          min: 26 * 3600 + 1.5,
          max: 26 * 3600 + 1.5,
        },
      ]);
    });

    it('records no review latency for a review that failed', async () => {
      setUp();

      await run({ action: 'fail', clientId: CLIENT_ID, error: 'boom' });

      expect(services.metrics.snapshot()).toEqual([]);
    });

    it('has nothing to do activating a consumer whose registration ended (denied), writing nothing', async () => {
      setUp();
      await run({ action: 'deny', clientId: CLIENT_ID, cause: 'no' });
      ddb.resetHistory();

      await expect(run({ action: 'activate', clientId: CLIENT_ID })).resolves.toEqual({ status: 'denied' });

      expect(writes()).toHaveLength(0);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'denied' });
    });
  });

  describe('a registration its requester withdrew', () => {
    it.each<[string, Record<string, unknown>]>([
      ['activate', { action: 'activate' }],
      ['deny', { action: 'deny', cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }) }],
      ['expire', { action: 'expire' }],
      ['fail', { action: 'fail', error: 'boom' }],
    ])('stays withdrawn when the workflow would %s it, writing nothing and recording no latency', async (_, step) => {
      setUp({ status: 'withdrawn', approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString() }] });

      await expect(run({ clientId: CLIENT_ID, ...step } as never)).resolves.toEqual({ status: 'withdrawn' });

      expect(writes()).toHaveLength(0);
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'withdrawn' });
      expect(services.metrics.snapshot()).toEqual([]);
    });

    it('sends no outcome email: its contacts were told when it was withdrawn', async () => {
      setUp({ status: 'withdrawn', outcomeReason: 'The requester withdrew the request before its review ended.' });

      await expect(run({ action: 'notify', clientId: CLIENT_ID })).resolves.toEqual({ status: 'withdrawn' });

      expect(mailer.sent).toHaveLength(0);
      expect(writes()).toHaveLength(0);
    });
  });

  describe('notify', () => {
    it.each<[ConsumerStatus, string | undefined, string]>([
      ['active', undefined, 'was approved'],
      ['denied', 'No contract on file', 'is denied'],
      ['expired', 'No decision was made within the review period.', 'is expired'],
      ['failed', 'The review could not be completed.', 'is failed'],
    ])('emails the contacts once about a %s request', async (status, outcomeReason, subject) => {
      setUp({ status, outcomeReason });

      await expect(run({ action: 'notify', clientId: CLIENT_ID })).resolves.toEqual({ status });

      expect(mailer.sent).toHaveLength(1);
      const [email] = mailer.sent;
      expect(email!.to).toEqual([OPS, 'Dana.Reviewer@Bank.Example']);
      expect(email!.subject).toContain(subject);
      expect(email!.text).toContain(`Status: ${ISSUER}/register/${CLIENT_ID}`);
      if (outcomeReason) expect(email!.text).toContain(`Reason: ${outcomeReason}`);
      expect(writes()).toHaveLength(0);
    });

    it('sends nothing while the request is pending review', async () => {
      setUp();

      await expect(run({ action: 'notify', clientId: CLIENT_ID })).resolves.toEqual({ status: 'pending_review' });

      expect(mailer.sent).toHaveLength(0);
      expect(writes()).toHaveLength(0);
    });

    it('sends nothing for a consumer without contacts', async () => {
      setUp({ status: 'active', contacts: [] });

      await run({ action: 'notify', clientId: CLIENT_ID });

      expect(mailer.sent).toHaveLength(0);
    });

    it('sends nothing for an unknown consumer', async () => {
      setUp();

      await expect(run({ action: 'notify', clientId: 'gh_unknown' })).resolves.toEqual({ status: 'unknown' });

      expect(mailer.sent).toHaveLength(0);
    });
  });

  it.each([
    { action: 'approve_everything', clientId: CLIENT_ID },
    { action: 'activate' },
    { action: 'request_approval', clientId: CLIENT_ID },
    null,
    'activate',
  ])('refuses the payload %j, reading, writing and sending nothing', async (payload) => {
    setUp();

    await expect(run(payload)).rejects.toThrow();

    expect(ddb.calls()).toHaveLength(0);
    expect(mailer.sent).toHaveLength(0);
  });
});
