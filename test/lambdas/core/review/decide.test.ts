import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskDoesNotExist, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflow } from '../../../../lambdas/adapters/aws/sfn-workflow.js';
import { verifyChain, type AuditEvent } from '../../../../lambdas/core/audit/event.js';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { ServiceError } from '../../../../lambdas/core/errors.js';
import { decideReview, DENIED_ERROR, openReview, type Decision } from '../../../../lambdas/core/review/decide.js';
import { reviewErrorStatus } from '../../../../lambdas/handlers/http/to-response.js';
import { ReviewError, type ReviewErrorCode } from '../../../../lambdas/core/review/errors.js';
import type { Review } from '../../../../lambdas/core/review/review.js';
import { SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { AWS_TEST_CLIENT_CONFIG, auditTrailFor, CLIENT_ID, HOUR_MS, NOW } from '../../fixtures.js';
import { buildServices, FakeTable, ISSUER } from '../../handlers/fixtures.js';
import { ALICE, BOB, DANA, linkFor, pendingConsumer, REVIEW_ID, reviewFixture, TASK_TOKEN } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';

let table: FakeTable;
let services: ReturnType<typeof buildServices>;
let keys: SigningKeyCache;

/** Seeds the consumer (with its two registration audit events) and the review round. */
function seed(consumer: Partial<Consumer> = {}, review: Partial<Review> = {}): Review {
  table.putConsumer(pendingConsumer(consumer));
  table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  const round = reviewFixture(review);
  table.putReview(round);
  return round;
}

beforeEach(() => {
  table = new FakeTable(ddb);
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  services = buildServices({
    jwks: { keys: [] },
    workflow: new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) }),
  });
  keys = new SigningKeyCache(services.vault, services.clock);
});

afterEach(() => {
  ddb.reset();
  sfn.reset();
});

async function decide(reviewer: string, decision: Decision, comment = '', review: Review = reviewFixture()) {
  const token = await linkFor(keys, ISSUER, review, reviewer);
  return decideReview(services, keys, { reviewId: review.reviewId, token, decision, comment });
}

async function refused(attempt: Promise<unknown>, code: ReviewErrorCode, status: number): Promise<ReviewError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReviewError);
  expect(error).toMatchObject({ code });
  expect(reviewErrorStatus(error as ReviewError)).toBe(status);
  return error as ReviewError;
}

const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
const writes = () => ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand));
const successes = () => sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
const failures = () => sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input);
const trail = (): AuditEvent[] =>
  table
    .items(`CONSUMER#${CLIENT_ID}`)
    .filter((i) => i['kind'] === 'audit')
    .sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])))
    .map(({ pk: _pk, sk: _sk, kind: _kind, ...e }) => e as unknown as AuditEvent);

function expectNothingWrittenOrSent(): void {
  expect(writes()).toHaveLength(0);
  expect(sfn.calls()).toHaveLength(0);
}

describe('openReview', () => {
  it('returns the round, the consumer and the link, reading only', async () => {
    const review = seed();

    const view = await openReview(services, keys, REVIEW_ID, await linkFor(keys, ISSUER, review, ALICE));

    expect(view.review).toEqual(review);
    expect(view.consumer).toMatchObject({ clientId: CLIENT_ID, status: 'pending_review' });
    expect(view.link).toEqual({ reviewId: REVIEW_ID, reviewer: ALICE, linkId: 'link-alice' });
    expectNothingWrittenOrSent();
  });

  it('refuses a validly signed link whose link id is not the one the reviewer was sent', async () => {
    seed();
    const token = await linkFor(keys, ISSUER, reviewFixture({ reviewers: [{ email: ALICE, linkId: 'an-older-link' }] }), ALICE);

    await refused(openReview(services, keys, REVIEW_ID, token), 'link_invalid', 403);
    expectNothingWrittenOrSent();
  });

  it('refuses a validly signed link for someone who is not a reviewer of the round', async () => {
    seed();
    const token = await linkFor(keys, ISSUER, reviewFixture({ reviewers: [{ email: 'mallory@bank.example', linkId: 'link-alice' }] }), 'mallory@bank.example');

    await refused(openReview(services, keys, REVIEW_ID, token), 'link_invalid', 403);
  });

  it('refuses a link for a round that is not stored', async () => {
    seed();
    const token = await linkFor(keys, ISSUER, reviewFixture({ reviewId: 'f'.repeat(32) }), ALICE);

    await refused(openReview(services, keys, 'f'.repeat(32), token), 'link_invalid', 403);
  });
});

describe('decideReview', () => {
  describe('approve', () => {
    it('records the approval, the round’s decision and the audit event in one transaction', async () => {
      seed();

      await decide(ALICE, 'approve', '  Contract checked  ');

      expect(transactions()).toHaveLength(1);
      const [review, consumer, audit, ...rest] = transactions()[0]!;
      expect(rest).toHaveLength(0);
      expect(review!.Update).toMatchObject({
        Key: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' },
        ConditionExpression: 'attribute_exists(pk) AND #status = :open',
        ExpressionAttributeValues: { ':status': 'approved', ':by': ALICE, ':at': NOW.toISOString(), ':comment': 'Contract checked', ':open': 'open' },
      });
      expect(consumer!.Update!.Key).toEqual({ pk: `CONSUMER#${CLIENT_ID}`, sk: 'CONSUMER' });
      expect(consumer!.Update!.ConditionExpression).toBe('attribute_exists(pk) AND #auditSeq = :expectSeq AND #status IN (:s0)');
      expect(consumer!.Update!.ExpressionAttributeValues).toMatchObject({ ':expectSeq': 2, ':s0': 'pending_review' });
      expect(audit!.Put!.Item).toMatchObject({
        type: 'consumer.review_approved',
        actor: { kind: 'reviewer', id: ALICE },
        data: { reviewId: REVIEW_ID, round: 1, comment: 'Contract checked' },
      });
      expect(JSON.stringify(audit!.Put!.Item)).not.toContain(TASK_TOKEN);

      expect(table.consumerItem(CLIENT_ID)).toMatchObject({
        status: 'pending_review',
        approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString(), comment: 'Contract checked' }],
      });
      expect(table.consumerItem(CLIENT_ID)).not.toHaveProperty('openReviewId');
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE, decidedAt: NOW.toISOString(), comment: 'Contract checked' });
      expect(trail().map((e) => e.type)).toEqual(['consumer.requested', 'consumer.evaluated', 'consumer.review_approved']);
      expect(verifyChain(trail())).toEqual({ ok: true });
    });

    it("tells the workflow how much of the request's one deadline is left, so the next round waits no longer", async () => {
      seed();
      services.clock.advance(10 * HOUR_MS + 500);

      await decide(ALICE, 'approve');

      const output = JSON.parse(successes()[0]!.output!) as { remainingSeconds: number };
      expect(output.remainingSeconds).toBe(Math.ceil((Date.parse(reviewFixture().deadline) - NOW.getTime() - 10 * HOUR_MS - 500) / 1000));
    });

    it('resumes the workflow with the number of approvals, after the decision is stored, and marks it delivered', async () => {
      seed();
      let storedWhenSent: unknown;
      sfn.on(SendTaskSuccessCommand).callsFake(() => {
        storedWhenSent = table.reviewItem(REVIEW_ID)?.['status'];
        return {};
      });

      const result = await decide(ALICE, 'approve');

      expect(successes()).toEqual([
        {
          taskToken: TASK_TOKEN,
          output: JSON.stringify({ approvalsGranted: 1, reviewId: REVIEW_ID, remainingSeconds: (Date.parse(reviewFixture().deadline) - NOW.getTime()) / 1000 }),
        },
      ]);
      expect(failures()).toHaveLength(0);
      expect(storedWhenSent).toBe('approved');
      expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input)).toEqual([
        {
          TableName: expect.any(String),
          Key: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' },
          UpdateExpression: 'SET deliveredAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': NOW.toISOString() },
        },
      ]);
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ deliveredAt: NOW.toISOString() });
      expect(result.review).toMatchObject({ status: 'approved', decidedBy: ALICE });
      expect(result.consumer.approvals).toHaveLength(1);
    });

    it('counts the earlier round’s approval in the second round', async () => {
      const earlier = { reviewer: BOB, round: 1, at: NOW.toISOString() };
      const round2 = seed({ approvals: [earlier] }, { round: 2, taskToken: 'sfn-task-token-round-2', reviewers: [{ email: ALICE, linkId: 'link-alice' }] });

      await decide(ALICE, 'approve', '', round2);

      expect(successes()).toEqual([
        {
          taskToken: 'sfn-task-token-round-2',
          output: JSON.stringify({ approvalsGranted: 2, reviewId: REVIEW_ID, remainingSeconds: (Date.parse(reviewFixture().deadline) - NOW.getTime()) / 1000 }),
        },
      ]);
      expect(table.consumerItem(CLIENT_ID)!['approvals']).toEqual([earlier, { reviewer: ALICE, round: 2, at: NOW.toISOString() }]);
    });

    it('stores no comment on an approval given without one', async () => {
      seed();

      await decide(ALICE, 'approve', '   ');

      expect(table.consumerItem(CLIENT_ID)!['approvals']).toEqual([{ reviewer: ALICE, round: 1, at: NOW.toISOString() }]);
    });

    it('keeps at most 2000 characters of a comment', async () => {
      seed();

      await decide(ALICE, 'approve', 'x'.repeat(5000));

      expect(table.reviewItem(REVIEW_ID)!['comment']).toHaveLength(2000);
    });
  });

  describe('deny', () => {
    it('records the denial with its reason and fails the task with Gatehouse.Denied', async () => {
      seed();

      await decide(ALICE, 'deny', 'No contract on file');

      expect(transactions()).toHaveLength(1);
      const [review, consumer, audit] = transactions()[0]!;
      expect(review!.Update!.ExpressionAttributeValues).toMatchObject({ ':status': 'denied', ':by': ALICE, ':comment': 'No contract on file' });
      expect(consumer!.Update!.ExpressionAttributeValues).toMatchObject({ ':s0': 'pending_review' });
      expect(audit!.Put!.Item).toMatchObject({
        type: 'consumer.review_denied',
        actor: { kind: 'reviewer', id: ALICE },
        data: { comment: 'No contract on file' },
      });
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'pending_review', approvals: [], outcomeReason: 'No contract on file' });

      expect(DENIED_ERROR).toBe('Gatehouse.Denied');
      expect(failures()).toEqual([
        { taskToken: TASK_TOKEN, error: 'Gatehouse.Denied', cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }) },
      ]);
      expect(successes()).toHaveLength(0);
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'denied', deliveredAt: NOW.toISOString() });
    });

    it.each(['', '   \n\t'])('requires a reason (comment %j): comment_required, nothing written or sent', async (comment) => {
      seed();

      await refused(decide(ALICE, 'deny', comment), 'comment_required', 400);

      expectNothingWrittenOrSent();
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'open' });
    });
  });

  describe('refusals', () => {
    it('refuses a second decision on the same round as already_decided, writing and sending nothing', async () => {
      seed();
      await decide(ALICE, 'approve');
      ddb.resetHistory();
      sfn.resetHistory();

      await refused(decide(BOB, 'approve'), 'already_decided', 409);
      await refused(decide(BOB, 'deny', 'Too late'), 'already_decided', 409);
      await refused(decide(ALICE, 'approve'), 'already_decided', 409);

      expectNothingWrittenOrSent();
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE });
    });

    it('refuses a decision that loses the race to another one as already_decided, sending nothing', async () => {
      seed();
      ddb.on(TransactWriteCommand).rejects(
        new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
        }),
      );

      await refused(decide(BOB, 'approve'), 'already_decided', 409);

      expect(sfn.calls()).toHaveLength(0);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    });

    it('refuses a reviewer who is one of the requester’s contacts (other casing) as not_eligible, writing nothing', async () => {
      const review = seed(
        {},
        {
          reviewers: [
            { email: ALICE, linkId: 'link-alice' },
            { email: DANA, linkId: 'link-dana' },
          ],
        },
      );

      await refused(decide(DANA, 'approve', '', review), 'not_eligible', 403);

      expectNothingWrittenOrSent();
    });

    it('refuses a reviewer who approved an earlier round as not_eligible, writing nothing', async () => {
      const review = seed({ approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString() }] }, { round: 2 });

      await refused(decide(ALICE, 'approve', '', review), 'not_eligible', 403);

      expectNothingWrittenOrSent();
    });

    it('refuses a link past its expiry as link_expired, writing nothing', async () => {
      const review = seed();
      const token = await linkFor(keys, ISSUER, review, ALICE);
      services.clock.advance(72 * HOUR_MS);

      await refused(decideReview(services, keys, { reviewId: REVIEW_ID, token, decision: 'approve', comment: '' }), 'link_expired', 410);

      expectNothingWrittenOrSent();
    });

    it('refuses a decision past the round’s deadline as link_expired even while the link is unexpired', async () => {
      const review = seed({}, { deadline: new Date(NOW.getTime() + HOUR_MS).toISOString() });
      const token = await linkFor(keys, ISSUER, review, ALICE, { expiresAt: new Date(NOW.getTime() + 72 * HOUR_MS) });
      services.clock.advance(HOUR_MS);

      await refused(decideReview(services, keys, { reviewId: REVIEW_ID, token, decision: 'approve', comment: '' }), 'link_expired', 410);

      expectNothingWrittenOrSent();
    });

    it('refuses a decision on a request the workflow already closed as already_decided, writing nothing', async () => {
      seed({ status: 'expired' });

      await refused(decide(ALICE, 'approve'), 'already_decided', 409);

      expectNothingWrittenOrSent();
    });
  });

  describe('delivery', () => {
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    it('keeps the decision and answers dependency_unavailable when the workflow cannot be reached', async () => {
      seed();
      sfn.on(SendTaskSuccessCommand).rejects(throttled());

      const error = await decide(ALICE, 'approve').catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: 'dependency_unavailable', retryAfterSeconds: 10 });
      expect(transactions()).toHaveLength(1);
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE });
      expect(table.reviewItem(REVIEW_ID)).not.toHaveProperty('deliveredAt');
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(services.log.error).toHaveBeenCalledWith('review decision not delivered', { reviewId: REVIEW_ID, error: 'ThrottlingException' });
      expect(JSON.stringify(services.log.error.mock.calls)).not.toContain(TASK_TOKEN);
    });

    it('resends an undelivered approval when the same reviewer submits it again, and marks it delivered', async () => {
      seed();
      sfn.on(SendTaskSuccessCommand).rejectsOnce(throttled()).resolves({});
      await decide(ALICE, 'approve').catch(() => undefined);

      await expect(decide(ALICE, 'approve')).resolves.toMatchObject({ review: { status: 'approved', decidedBy: ALICE } });

      expect(transactions()).toHaveLength(1);
      expect(successes()).toHaveLength(2);
      expect(successes()[1]).toEqual({
        taskToken: TASK_TOKEN,
        output: JSON.stringify({ approvalsGranted: 1, reviewId: REVIEW_ID, remainingSeconds: (Date.parse(reviewFixture().deadline) - NOW.getTime()) / 1000 }),
      });
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ deliveredAt: NOW.toISOString() });
      expect(table.consumerItem(CLIENT_ID)!['approvals']).toHaveLength(1);
      expect(trail().filter((e) => e.type === 'consumer.review_approved')).toHaveLength(1);
    });

    it('resends an undelivered denial with the recorded reason, whatever the resubmitted comment', async () => {
      seed();
      sfn.on(SendTaskFailureCommand).rejectsOnce(throttled()).resolves({});
      await decide(ALICE, 'deny', 'No contract on file').catch(() => undefined);

      await decide(ALICE, 'deny', '');

      expect(failures()).toHaveLength(2);
      expect(failures()[1]).toEqual({
        taskToken: TASK_TOKEN,
        error: 'Gatehouse.Denied',
        cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }),
      });
      expect(transactions()).toHaveLength(1);
    });

    it('refuses another reviewer, or the other decision, on an undelivered round as already_decided', async () => {
      seed();
      sfn.on(SendTaskSuccessCommand).rejectsOnce(throttled()).resolves({});
      await decide(ALICE, 'approve').catch(() => undefined);
      ddb.resetHistory();
      sfn.resetHistory();

      await refused(decide(BOB, 'approve'), 'already_decided', 409);
      await refused(decide(BOB, 'deny', 'No'), 'already_decided', 409);
      await refused(decide(ALICE, 'deny', 'Changed my mind'), 'already_decided', 409);

      expectNothingWrittenOrSent();
    });

    it('answers success once the workflow has the decision, even if marking it delivered fails', async () => {
      seed();
      ddb.on(UpdateCommand).rejects(new Error('throttled'));

      await expect(decide(ALICE, 'approve')).resolves.toMatchObject({ review: { status: 'approved' } });
      expect(successes()).toHaveLength(1);
    });

    it.each([
      ['TaskTimedOut', () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
      ['InvalidToken', () => new InvalidToken({ message: 'Invalid Token', $metadata: {} })],
      ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task Does Not Exist', $metadata: {} })],
    ])('answers link_expired when the workflow reports %s', async (_name, error) => {
      seed();
      sfn.on(SendTaskSuccessCommand).rejects(error());

      await refused(decide(ALICE, 'approve'), 'link_expired', 410);

      expect(table.reviewItem(REVIEW_ID)).not.toHaveProperty('deliveredAt');
      expect(services.log.error).not.toHaveBeenCalled();
    });
  });
});
