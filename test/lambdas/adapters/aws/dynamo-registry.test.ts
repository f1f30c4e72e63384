import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { dynamoStores, type DynamoStores } from '../../../../lambdas/adapters/aws/dynamo-registry.js';
import { REGISTRY_OPERATION_ACCESS, type RegistryOperationName } from '../../../../lambdas/adapters/aws/registry-access.js';
import type { ChangeRequest } from '../../../../lambdas/core/requests/change-request.js';
import { chainEvent } from '../../../../lambdas/core/audit/event.js';
import type { ConsumerChange, IdempotencyRecord } from '../../../../lambdas/core/ports.js';
import { RegistryError } from '../../../../lambdas/core/registry/errors.js';
import { ALICE, REVIEW_ID, reviewFixture } from '../../core/review/fixtures.js';
import { AWS_TEST_CLIENT_CONFIG, auditTrailFor, CLIENT_ID, consumerFixture, HOUR_MS, NOW } from '../../fixtures.js';

const TABLE = 'gatehouse-test';
const ddb = mockClient(DynamoDBDocumentClient);

function registry(): DynamoStores {
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_TEST_CLIENT_CONFIG), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamoStores({ tableName: TABLE, documentClient });
}

const consumerKey = { pk: `CONSUMER#${CLIENT_ID}`, sk: 'CONSUMER' };

function idempotencyRecord(): IdempotencyRecord {
  return {
    keyHash: 'a'.repeat(64),
    requestHash: 'b'.repeat(64),
    statusCode: 201,
    sealedBody: 'sealed-body',
    createdAt: NOW.toISOString(),
    expiresAtEpoch: Math.floor(NOW.getTime() / 1000) + 86_400,
  };
}

function change(overrides: Partial<ConsumerChange> = {}): ConsumerChange {
  const consumer = consumerFixture();
  const audit = chainEvent(
    { seq: consumer.auditSeq, head: consumer.auditHead },
    { clientId: CLIENT_ID, type: 'consumer.suspended', at: NOW.toISOString(), actor: { kind: 'operator', id: 'ops' }, data: {} },
  );
  return {
    clientId: CLIENT_ID,
    expect: { statuses: ['active'], auditSeq: consumer.auditSeq },
    set: { status: 'suspended', updatedAt: NOW.toISOString() },
    audit,
    ...overrides,
  };
}

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

const transactItems = (n = 0) => ddb.commandCalls(TransactWriteCommand)[n]!.args[0].input.TransactItems!;

describe('dynamoStores', () => {
  afterEach(() => {
    ddb.reset();
  });

  describe('the access of each operation', () => {
    it('sends exactly the DynamoDB actions REGISTRY_OPERATION_ACCESS grants, down every branch of every operation', async () => {
      const request: ChangeRequest = {
        requestId: 'req-1',
        type: 'reinstatement',
        clientId: CLIENT_ID,
        status: 'pending_review',
        requestedBy: 'ops',
        justification: 'Back in business after the incident review',
        risk: 'medium',
        approvalsRequired: 1,
        approvals: [],
        reviewSlaHours: 24,
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
        version: 1,
      };
      const updateRequest = { requestId: 'req-1', expect: { statuses: ['pending_review' as const], version: 1 }, set: { status: 'approved' as const } };
      const indexed = change({ set: { status: 'suspended', attentionAt: NOW.toISOString() } });
      // Each operation with arguments that take every branch that writes something more.
      const calls: Record<RegistryOperationName, (r: DynamoStores) => Promise<unknown>> = {
        createConsumer: (r) => r.consumers.createConsumer(consumerFixture(), auditTrailFor(CLIENT_ID, NOW.toISOString(), 2), idempotencyRecord()),
        getConsumer: (r) => r.consumers.getConsumer(CLIENT_ID),
        updateConsumer: (r) =>
          r.consumers.updateConsumer(
            {
              ...indexed,
              releaseIdempotency: 'c'.repeat(64),
              request: { create: request },
              revocation: { clientId: CLIENT_ID, status: 'suspended', since: 1, until: 2 },
            },
            idempotencyRecord(),
          ),
        listAudit: (r) => r.consumers.listAudit(CLIENT_ID),
        getIdempotency: (r) => r.markers.getIdempotency('a'.repeat(64)),
        listConsumers: (r) => r.consumers.listConsumers(10),
        recordScopes: (r) => r.consumers.recordScopes(CLIENT_ID, ['accounts:read']),
        recordUse: (r) => r.consumers.recordUse(CLIENT_ID, NOW, HOUR_MS),
        claimOnce: (r) => r.markers.claimOnce('jti-1', Math.floor(NOW.getTime() / 1000) + 60, NOW),
        hasMarker: (r) => r.markers.hasMarker('jti-1', NOW),
        createReview: (r) => r.reviews.createReview(reviewFixture(), { ...indexed, request: updateRequest }, 'review-0'),
        getReview: (r) => r.reviews.getReview(REVIEW_ID),
        decideReview: (r) =>
          r.reviews.decideReview(REVIEW_ID, { status: 'approved', decidedBy: ALICE, decidedAt: NOW.toISOString() }, { ...change(), request: updateRequest }),
        renewReviewLinks: (r) =>
          r.reviews.renewReviewLinks(
            REVIEW_ID,
            { previous: [{ email: ALICE, linkId: 'old' }], reviewers: [{ email: ALICE, linkId: 'new' }] },
            { ...change(), request: updateRequest },
          ),
        markReviewDelivered: (r) => r.reviews.markReviewDelivered(REVIEW_ID, NOW),
        getRequest: (r) => r.requests.getRequest(CLIENT_ID, 'req-1'),
        listRequests: (r) => r.requests.listRequests(CLIENT_ID),
        listAllRequests: (r) => r.requests.listAllRequests(10),
        appendSystemAudit: (r) =>
          r.systemAudit.appendSystemAudit('signing-key', {
            type: 'signing_key.rotated',
            at: NOW.toISOString(),
            actor: { kind: 'system', id: 'rotation' },
            data: {},
          }),
        listSystemAudit: (r) => r.systemAudit.listSystemAudit('signing-key'),
        listDue: (r) => r.attention.listDue(NOW, 10),
        rearm: (r) => r.attention.rearm(CLIENT_ID, NOW.toISOString(), 3, { requestCheckAt: NOW.toISOString() }),
        getPolicyRollout: (r) => r.rollouts.getPolicyRollout(),
        savePolicyRollout: (r) =>
          r.rollouts.savePolicyRollout({ version: 'v2', startedAt: NOW.toISOString(), complete: false, reevaluated: 0, outOfPolicy: 0, revision: 0 }, 0),
        recordTokenRevocation: (r) => r.revocations.recordTokenRevocation({ jti: 'jti-1', exp: Math.floor(NOW.getTime() / 1000) + 60 }),
        listRevocations: (r) => r.revocations.listRevocations(NOW),
      };
      expect(Object.keys(calls).sort()).toEqual(
        Object.values(registry())
          .flatMap((store) => Object.keys(store))
          .sort(),
      );

      const actionsOfTransactionItem = (item: Record<string, unknown>): string[] =>
        Object.keys(item).map(
          (kind) => ({ Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' })[kind] ?? `unknown ${kind}`,
        );
      for (const [name, call] of Object.entries(calls) as Array<[RegistryOperationName, (r: DynamoStores) => Promise<unknown>]>) {
        ddb.reset();
        ddb.onAnyCommand().resolves({});
        await call(registry());
        const table = new Set<string>();
        const attentionIndex = new Set<string>();
        for (const sent of ddb.calls()) {
          const command = sent.args[0] as { constructor: { name: string }; input: { IndexName?: string; TransactItems?: Record<string, unknown>[] } };
          // A command class the map below lacks is kept by its own name, and so fails the comparison.
          const actions = command.input.TransactItems
            ? command.input.TransactItems.flatMap(actionsOfTransactionItem)
            : [
                (
                  {
                    GetCommand: 'GetItem',
                    PutCommand: 'PutItem',
                    UpdateCommand: 'UpdateItem',
                    DeleteCommand: 'DeleteItem',
                    QueryCommand: 'Query',
                    ScanCommand: 'Scan',
                  } as Record<string, string>
                )[command.constructor.name] ?? command.constructor.name,
              ];
          for (const action of actions) (command.input.IndexName === 'attention' ? attentionIndex : table).add(action);
        }
        expect({ name, table: [...table].sort(), attentionIndex: [...attentionIndex].sort() }).toEqual({
          name,
          table: [...REGISTRY_OPERATION_ACCESS[name].table].sort(),
          attentionIndex: [...(REGISTRY_OPERATION_ACCESS[name].attentionIndex ?? [])].sort(),
        });
      }
    });
  });

  describe('createConsumer', () => {
    it('writes the consumer and every audit event in one transaction', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const consumer = consumerFixture();
      const audit = auditTrailFor(CLIENT_ID, NOW.toISOString(), 4);

      await registry().consumers.createConsumer(consumer, audit);

      expect(ddb.calls()).toHaveLength(1);
      const items = transactItems();
      expect(items).toHaveLength(1 + audit.length);
      expect(items[0]).toEqual({
        Put: {
          TableName: TABLE,
          Item: { ...consumerKey, kind: 'consumer', ...consumer },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      audit.forEach((event, i) => {
        expect(items[i + 1]).toEqual({
          Put: {
            TableName: TABLE,
            Item: { pk: `CONSUMER#${CLIENT_ID}`, sk: `AUDIT#${String(event.seq).padStart(10, '0')}`, kind: 'audit', ...event },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      });
    });

    it('adds the idempotency record, with a TTL that lets an expired record be replaced', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const record = idempotencyRecord();

      await registry().consumers.createConsumer(consumerFixture(), auditTrailFor(CLIENT_ID, NOW.toISOString(), 2), record);

      const items = transactItems();
      expect(items).toHaveLength(4);
      expect(items[3]).toEqual({
        Put: {
          TableName: TABLE,
          Item: { pk: `IDEMPOTENCY#${record.keyHash}`, sk: 'IDEMPOTENCY', kind: 'idempotency', ...record, ttl: record.expiresAtEpoch },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': Math.floor(NOW.getTime() / 1000) },
        },
      });
    });

    it('reports a failed condition as condition_failed', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

      const error = await registry()
        .consumers.createConsumer(consumerFixture(), [])
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).code).toBe('condition_failed');
    });

    it('reports a cancellation for another reason as unavailable', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ThrottlingError'));

      await expect(registry().consumers.createConsumer(consumerFixture(), [])).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });

    it('reports any other failure as unavailable', async () => {
      ddb.on(TransactWriteCommand).rejects(new Error('socket hang up'));

      await expect(registry().consumers.createConsumer(consumerFixture(), [])).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('updateConsumer', () => {
    it('conditions the update on the audit position and the expected statuses, and appends the audit event', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const c = change({ expect: { statuses: ['active', 'suspended'], auditSeq: 2 } });

      await registry().consumers.updateConsumer(c);

      expect(ddb.calls()).toHaveLength(1);
      const items = transactItems();
      expect(items).toHaveLength(2);
      expect(items[0]).toEqual({
        Update: {
          TableName: TABLE,
          Key: consumerKey,
          UpdateExpression: 'SET #auditSeq = :seq, #auditHead = :head, #f0 = :f0, #f1 = :f1',
          ConditionExpression: 'attribute_exists(pk) AND #auditSeq = :expectSeq AND #status IN (:s0, :s1)',
          ExpressionAttributeNames: { '#status': 'status', '#auditSeq': 'auditSeq', '#auditHead': 'auditHead', '#f0': 'status', '#f1': 'updatedAt' },
          ExpressionAttributeValues: {
            ':expectSeq': 2,
            ':seq': c.audit.seq,
            ':head': c.audit.hash,
            ':f0': 'suspended',
            ':f1': NOW.toISOString(),
            ':s0': 'active',
            ':s1': 'suspended',
          },
        },
      });
      expect(items[1]).toEqual({
        Put: {
          TableName: TABLE,
          Item: { pk: `CONSUMER#${CLIENT_ID}`, sk: 'AUDIT#0000000003', kind: 'audit', ...c.audit },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    });

    it('removes fields set to undefined', async () => {
      ddb.on(TransactWriteCommand).resolves({});

      await registry().consumers.updateConsumer(change({ set: { openReviewId: undefined, updatedAt: NOW.toISOString(), lastUsedAt: undefined } }));

      const update = transactItems()[0]!.Update!;
      expect(update.UpdateExpression).toBe('SET #auditSeq = :seq, #auditHead = :head, #f1 = :f1 REMOVE #f0, #f2');
      expect(update.ExpressionAttributeNames).toMatchObject({ '#f0': 'openReviewId', '#f1': 'updatedAt', '#f2': 'lastUsedAt' });
      expect(update.ExpressionAttributeValues).not.toHaveProperty(':f0');
      expect(update.ExpressionAttributeValues).not.toHaveProperty(':f2');
    });

    it('writes the idempotency record in the same transaction', async () => {
      ddb.on(TransactWriteCommand).resolves({});

      await registry().consumers.updateConsumer(change(), idempotencyRecord());

      const items = transactItems();
      expect(items).toHaveLength(3);
      expect(items[2]!.Put!.Item).toMatchObject({ pk: `IDEMPOTENCY#${'a'.repeat(64)}`, kind: 'idempotency', ttl: idempotencyRecord().expiresAtEpoch });
    });

    it('reports a lost race as condition_failed', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));

      await expect(registry().consumers.updateConsumer(change())).rejects.toMatchObject({ name: 'RegistryError', code: 'condition_failed' });
    });

    it('reports a transport failure as unavailable', async () => {
      ddb.on(TransactWriteCommand).rejects(new Error('ECONNRESET'));

      await expect(registry().consumers.updateConsumer(change())).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('getConsumer', () => {
    it('reads consistently and strips the table’s internal attributes', async () => {
      const consumer = consumerFixture();
      ddb.on(GetCommand).resolves({ Item: { ...consumerKey, kind: 'consumer', gsi1pk: 'ATTENTION', gsi1sk: '2027-01-01', ttl: 123, ...consumer } });

      const read = await registry().consumers.getConsumer(CLIENT_ID);

      expect(read).toEqual(consumer);
      expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
      expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Key: consumerKey, ConsistentRead: true });
    });

    it('returns undefined for an unknown client', async () => {
      ddb.on(GetCommand).resolves({});

      await expect(registry().consumers.getConsumer('gh_unknown')).resolves.toBeUndefined();
    });

    it('reports a read failure as unavailable', async () => {
      ddb.on(GetCommand).rejects(new Error('timeout'));

      await expect(registry().consumers.getConsumer(CLIENT_ID)).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('getIdempotency', () => {
    it('reads the record by key hash and drops the TTL attribute', async () => {
      const record = idempotencyRecord();
      ddb.on(GetCommand).resolves({ Item: { pk: `IDEMPOTENCY#${record.keyHash}`, sk: 'IDEMPOTENCY', kind: 'idempotency', ttl: 1, ...record } });

      await expect(registry().markers.getIdempotency(record.keyHash)).resolves.toEqual(record);
      expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: `IDEMPOTENCY#${record.keyHash}`, sk: 'IDEMPOTENCY' },
        ConsistentRead: true,
      });
    });
  });

  describe('listAudit', () => {
    it('follows LastEvaluatedKey until the trail is complete', async () => {
      const trail = auditTrailFor(CLIENT_ID, NOW.toISOString(), 3);
      const item = (i: number) => ({ pk: `CONSUMER#${CLIENT_ID}`, sk: `AUDIT#000000000${i + 1}`, kind: 'audit', ...trail[i]! });
      const lastKey = { pk: `CONSUMER#${CLIENT_ID}`, sk: 'AUDIT#0000000002' };
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [item(0), item(1)], LastEvaluatedKey: lastKey })
        .resolvesOnce({ Items: [item(2)] });

      const events = await registry().consumers.listAudit(CLIENT_ID);

      expect(events).toEqual(trail);
      const queries = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
      expect(queries).toHaveLength(2);
      expect(queries[0]).toMatchObject({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `CONSUMER#${CLIENT_ID}`, ':prefix': 'AUDIT#' },
        ConsistentRead: true,
      });
      expect(queries[0]!.ExclusiveStartKey).toBeUndefined();
      expect(queries[1]!.ExclusiveStartKey).toEqual(lastKey);
    });
  });

  describe('rearm', () => {
    const input = () => ddb.commandCalls(UpdateCommand)[0]!.args[0].input;

    it('moves the attention index entry, conditional on the audit position', async () => {
      ddb.on(UpdateCommand).resolves({});

      await expect(registry().attention.rearm(CLIENT_ID, NOW.toISOString(), 7)).resolves.toBe(true);

      expect(input()).toMatchObject({
        UpdateExpression: 'SET attentionAt = :at, gsi1pk = :p, gsi1sk = :s',
        ConditionExpression: 'attribute_exists(pk) AND auditSeq = :seq',
        ExpressionAttributeValues: { ':seq': 7, ':at': NOW.toISOString(), ':p': 'ATTENTION', ':s': `${NOW.toISOString()}#${CLIENT_ID}` },
      });
    });

    it('moves the request check with it, or removes both', async () => {
      ddb.on(UpdateCommand).resolves({});
      const later = new Date(NOW.getTime() + HOUR_MS).toISOString();

      await registry().attention.rearm(CLIENT_ID, NOW.toISOString(), 7, { requestCheckAt: later });
      await registry().attention.rearm(CLIENT_ID, undefined, 8, { requestCheckAt: undefined });

      const [moved, removed] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(moved).toMatchObject({
        UpdateExpression: 'SET attentionAt = :at, gsi1pk = :p, gsi1sk = :s, requestCheckAt = :rc',
        ExpressionAttributeValues: { ':rc': later },
      });
      expect(removed).toMatchObject({ UpdateExpression: 'REMOVE attentionAt, gsi1pk, gsi1sk, requestCheckAt', ExpressionAttributeValues: { ':seq': 8 } });
      expect(removed!.ExpressionAttributeValues).not.toHaveProperty(':rc');
    });

    it('answers false when the consumer changed meanwhile', async () => {
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

      await expect(registry().attention.rearm(CLIENT_ID, undefined, 7, { requestCheckAt: undefined })).resolves.toBe(false);
    });
  });

  describe('recordUse', () => {
    it('sets lastUsedAt only when the last recorded use is older than the interval', async () => {
      ddb.on(UpdateCommand).resolves({});

      await registry().consumers.recordUse(CLIENT_ID, NOW, HOUR_MS);

      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Key: consumerKey,
        UpdateExpression: 'SET lastUsedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :cutoff)',
        ExpressionAttributeValues: { ':now': NOW.toISOString(), ':cutoff': new Date(NOW.getTime() - HOUR_MS).toISOString() },
      });
    });

    it('swallows ConditionalCheckFailedException (another instance recorded the use)', async () => {
      ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

      await expect(registry().consumers.recordUse(CLIENT_ID, NOW, HOUR_MS)).resolves.toBeUndefined();
    });

    it('reports any other failure as unavailable', async () => {
      ddb.on(UpdateCommand).rejects(new Error('throttled'));

      await expect(registry().consumers.recordUse(CLIENT_ID, NOW, HOUR_MS)).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('claimOnce', () => {
    const epoch = Math.floor(NOW.getTime() / 1000);

    it('claims a marker with a conditional put that lets an expired claim be replaced', async () => {
      ddb.on(PutCommand).resolves({});

      await expect(registry().markers.claimOnce('jti:abc', epoch + 300, NOW)).resolves.toBe(true);

      expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input)).toEqual([
        {
          TableName: TABLE,
          Item: { pk: 'MARKER#jti:abc', sk: 'MARKER', kind: 'marker', ttl: epoch + 300 },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': epoch },
        },
      ]);
    });

    it('answers false for a marker already claimed', async () => {
      ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

      await expect(registry().markers.claimOnce('jti:abc', epoch + 300, NOW)).resolves.toBe(false);
    });

    it('reports any other failure as unavailable', async () => {
      ddb.on(PutCommand).rejects(new Error('throttled'));

      await expect(registry().markers.claimOnce('jti:abc', epoch + 300, NOW)).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('hasMarker', () => {
    const epoch = Math.floor(NOW.getTime() / 1000);

    it.each([
      ['an unexpired marker', { Item: { pk: 'MARKER#m', sk: 'MARKER', ttl: epoch + 1 } }, true],
      ['a marker expiring this second', { Item: { pk: 'MARKER#m', sk: 'MARKER', ttl: epoch } }, true],
      ['an expired marker TTL has not removed yet', { Item: { pk: 'MARKER#m', sk: 'MARKER', ttl: epoch - 1 } }, false],
      ['no marker', {}, false],
    ])('answers for %s with a consistent read', async (_name, output, expected) => {
      ddb.on(GetCommand).resolves(output);

      await expect(registry().markers.hasMarker('m', NOW)).resolves.toBe(expected);
      expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: TABLE, Key: { pk: 'MARKER#m', sk: 'MARKER' }, ConsistentRead: true });
    });
  });

  describe('createReview', () => {
    const reviewKey = { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' };
    const opening = () => change({ expect: { statuses: ['pending_review'], auditSeq: 2 }, set: { openReviewId: REVIEW_ID, updatedAt: NOW.toISOString() } });

    it('puts the round only if it does not exist, with the consumer change and its audit event, in one transaction', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const review = reviewFixture();
      const c = opening();

      await registry().reviews.createReview(review, c);

      expect(ddb.calls()).toHaveLength(1);
      const items = transactItems();
      expect(items).toHaveLength(3);
      expect(items[0]).toEqual({
        Put: { TableName: TABLE, Item: { ...reviewKey, kind: 'review', ...review }, ConditionExpression: 'attribute_not_exists(pk)' },
      });
      expect(items[1]!.Update).toMatchObject({
        TableName: TABLE,
        Key: consumerKey,
        UpdateExpression: 'SET #auditSeq = :seq, #auditHead = :head, #f0 = :f0, #f1 = :f1',
        ConditionExpression: 'attribute_exists(pk) AND #auditSeq = :expectSeq AND #status IN (:s0)',
        ExpressionAttributeNames: { '#f0': 'openReviewId', '#f1': 'updatedAt' },
        ExpressionAttributeValues: { ':expectSeq': 2, ':s0': 'pending_review', ':f0': REVIEW_ID },
      });
      expect(items[2]).toEqual({
        Put: {
          TableName: TABLE,
          Item: { pk: `CONSUMER#${CLIENT_ID}`, sk: 'AUDIT#0000000003', kind: 'audit', ...c.audit },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    });

    it.each([
      ['the review (it already exists)', ['ConditionalCheckFailed', 'None', 'None'], 'review'],
      ['the consumer (it changed)', ['None', 'ConditionalCheckFailed', 'None'], 'consumer'],
      ['the audit event', ['None', 'None', 'ConditionalCheckFailed'], 'audit'],
    ])('reports a failed condition on %s as condition_failed naming the item', async (_case, codes, item) => {
      ddb.on(TransactWriteCommand).rejects(cancelled(...codes));

      const error = await registry()
        .reviews.createReview(reviewFixture(), opening())
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ code: 'condition_failed', item });
    });

    it('reports a transport failure as unavailable', async () => {
      ddb.on(TransactWriteCommand).rejects(new Error('ECONNRESET'));

      await expect(registry().reviews.createReview(reviewFixture(), opening())).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('getReview', () => {
    it('reads the round consistently and strips the table’s internal attributes', async () => {
      const review = reviewFixture({ status: 'approved', decidedBy: ALICE, decidedAt: NOW.toISOString(), comment: 'ok', deliveredAt: NOW.toISOString() });
      ddb.on(GetCommand).resolves({ Item: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW', kind: 'review', gsi1pk: 'X', gsi1sk: 'Y', ttl: 1, ...review } });

      await expect(registry().reviews.getReview(REVIEW_ID)).resolves.toEqual(review);
      expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
        { TableName: TABLE, Key: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' }, ConsistentRead: true },
      ]);
    });

    it('returns undefined for an unknown round', async () => {
      ddb.on(GetCommand).resolves({});

      await expect(registry().reviews.getReview('unknown')).resolves.toBeUndefined();
    });

    it('reports a read failure as unavailable', async () => {
      ddb.on(GetCommand).rejects(new Error('timeout'));

      await expect(registry().reviews.getReview(REVIEW_ID)).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('decideReview', () => {
    const decision = { status: 'denied', decidedBy: ALICE, decidedAt: NOW.toISOString(), comment: 'No contract' } as const;
    const closing = () =>
      change({
        expect: { statuses: ['pending_review'], auditSeq: 2 },
        set: { openReviewId: undefined, outcomeReason: 'No contract', updatedAt: NOW.toISOString() },
      });

    it('records the decision only while the round is open, with the consumer change and its audit event, in one transaction', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const c = closing();

      await registry().reviews.decideReview(REVIEW_ID, decision, c);

      expect(ddb.calls()).toHaveLength(1);
      const items = transactItems();
      expect(items).toHaveLength(3);
      expect(items[0]).toEqual({
        Update: {
          TableName: TABLE,
          Key: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' },
          UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at, #comment = :comment',
          ConditionExpression: 'attribute_exists(pk) AND #status = :open',
          ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
          ExpressionAttributeValues: { ':status': 'denied', ':by': ALICE, ':at': NOW.toISOString(), ':comment': 'No contract', ':open': 'open' },
        },
      });
      expect(items[1]!.Update).toMatchObject({
        Key: consumerKey,
        UpdateExpression: 'SET #auditSeq = :seq, #auditHead = :head, #f1 = :f1, #f2 = :f2 REMOVE #f0',
        ExpressionAttributeNames: { '#f0': 'openReviewId', '#f1': 'outcomeReason', '#f2': 'updatedAt' },
      });
      expect(items[2]!.Put!.Item).toEqual({ pk: `CONSUMER#${CLIENT_ID}`, sk: 'AUDIT#0000000003', kind: 'audit', ...c.audit });
    });

    it('stores an empty comment when the decision has none', async () => {
      ddb.on(TransactWriteCommand).resolves({});

      await registry().reviews.decideReview(REVIEW_ID, { status: 'approved', decidedBy: ALICE, decidedAt: NOW.toISOString() }, closing());

      expect(transactItems()[0]!.Update!.ExpressionAttributeValues).toMatchObject({ ':status': 'approved', ':comment': '' });
    });

    it('reports a round that is no longer open as condition_failed on the review', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

      const error = await registry()
        .reviews.decideReview(REVIEW_ID, decision, closing())
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ code: 'condition_failed', item: 'review' });
    });

    it('reports a consumer that changed as condition_failed on the consumer', async () => {
      ddb.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));

      await expect(registry().reviews.decideReview(REVIEW_ID, decision, closing())).rejects.toMatchObject({ code: 'condition_failed', item: 'consumer' });
    });

    it('reports a transport failure as unavailable', async () => {
      ddb.on(TransactWriteCommand).rejects(new Error('ECONNRESET'));

      await expect(registry().reviews.decideReview(REVIEW_ID, decision, closing())).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });

  describe('markReviewDelivered', () => {
    it('sets deliveredAt on the round', async () => {
      ddb.on(UpdateCommand).resolves({});

      await registry().reviews.markReviewDelivered(REVIEW_ID, NOW);

      expect(ddb.calls()).toHaveLength(1);
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: `REVIEW#${REVIEW_ID}`, sk: 'REVIEW' },
        UpdateExpression: 'SET deliveredAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': NOW.toISOString() },
      });
    });

    it('reports a failure as unavailable', async () => {
      ddb.on(UpdateCommand).rejects(new Error('throttled'));

      await expect(registry().reviews.markReviewDelivered(REVIEW_ID, NOW)).rejects.toMatchObject({ name: 'RegistryError', code: 'unavailable' });
    });
  });
});
