import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { chainEvent, GENESIS_HASH, type AuditEvent } from '../../core/audit/event.js';
import type { Consumer } from '../../core/consumer/consumer.js';
import type {
  AttentionIndex,
  ConsumerChange,
  DuePage,
  IdempotencyRecord,
  PolicyRollout,
  PolicyRolloutStore,
  Registry,
  SystemAuditLog,
} from '../../core/ports.js';
import type { ChangeRequest, RequestWrite } from '../../core/requests/change-request.js';
import type { Review } from '../../core/review/review.js';
import type { RevocationList, Revocations, RevokedConsumer, RevokedToken } from '../../core/revocation/revocation-list.js';
import { RegistryError, type RegistryItem } from '../../core/registry/errors.js';
import { keys, TABLE_SCHEMA } from './table-schema.js';

/*
 * The DynamoDB registry's operations (one table, keys in table-schema.ts), each a function of the table rather than a
 * method of a class, so that a Lambda bundle keeps only those its entry picks; dynamo-registry.ts binds them into ports.
 */

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const INTERNAL = new Set(['pk', 'sk', 'kind', 'gsi1pk', 'gsi1sk', 'ttl']);
const strip = <T>(item: Record<string, unknown>): T => Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;

/** A consumer item as the port's Consumer: internal attributes dropped, the used-scope string set as a sorted list. */
function toConsumer(item: Record<string, unknown>): Consumer {
  const { usedScopeSet, ...rest } = strip<Consumer & { usedScopeSet?: Set<string> }>(item);
  return usedScopeSet === undefined ? rest : { ...rest, usedScopes: [...usedScopeSet].sort() };
}

const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/**
 * The start key a cursor carries, checked to be exactly the key `attributes` (non-empty strings, `fixed` ones equal to
 * their value): anything else would reach DynamoDB as a ValidationException, a 500 for what is the caller's bad input.
 */
function decodeCursor(
  cursor: string | undefined,
  attributes: readonly string[] = ['pk', 'sk'],
  fixed: Readonly<Record<string, string>> = {},
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === attributes.length &&
    attributes.every((a) => {
      const v = (key as Record<string, unknown>)[a];
      return typeof v === 'string' && v.length > 0 && v.length <= 1024 && (fixed[a] === undefined || fixed[a] === v);
    });
  if (!valid) throw new RegistryError('invalid_cursor', 'The cursor is not one this registry handed out.');
  return key as Record<string, unknown>;
}

/** Adds `SET #<p>i = :<p>i` for each defined field and `REMOVE #<p>i` for each undefined one, with their placeholders. */
function assignFields(
  fields: Readonly<Record<string, unknown>>,
  prefix: string,
  into: { names: Record<string, string>; values: Record<string, unknown>; sets: string[]; removes: string[] },
): void {
  Object.entries(fields).forEach(([field, value], i) => {
    into.names[`#${prefix}${i}`] = field;
    if (value === undefined) into.removes.push(`#${prefix}${i}`);
    else {
      into.values[`:${prefix}${i}`] = value;
      into.sets.push(`#${prefix}${i} = :${prefix}${i}`);
    }
  });
}

/** Value placeholders `:<p>i` for a list (an `IN (…)` condition), added to `values`. */
function placeholders(list: readonly unknown[], prefix: string, values: Record<string, unknown>): string[] {
  return list.map((v, i) => {
    values[`:${prefix}${i}`] = v;
    return `:${prefix}${i}`;
  });
}

/** Names each item consumerChangeItems returns, so a failed condition says which record it was. */
const changeRoles = (change: ConsumerChange): RegistryItem[] => [
  'consumer',
  'audit',
  ...(change.request ? (['request'] as const) : []),
  ...(change.revocation ? (['revocation'] as const) : []),
];

/** The table the registry's operations read and write, and the document client they send through. */
export interface RegistryTable {
  readonly name: string;
  readonly db: DynamoDBDocumentClient;
}

/** Every port the DynamoDB registry serves: one table holds consumers, reviews, requests, audit, markers and the sweep's index. */
export type TableRegistry = Registry & SystemAuditLog & AttentionIndex & PolicyRolloutStore & RevocationList;

/** Each operation of a TableRegistry as a function of the table: what a Lambda entry picks from (dynamo-registry.ts). */
export type RegistryOperations = {
  readonly [K in keyof TableRegistry]: (table: RegistryTable, ...args: Parameters<TableRegistry[K]>) => ReturnType<TableRegistry[K]>;
};

export async function createConsumer(t: RegistryTable, consumer: Consumer, audit: readonly AuditEvent[], idempotency?: IdempotencyRecord): Promise<void> {
  const items: TransactItem[] = [
    {
      Put: {
        TableName: t.name,
        Item: {
          ...keys.consumer(consumer.clientId),
          kind: 'consumer',
          ...consumer,
          ...(consumer.attentionAt ? keys.attention(consumer.attentionAt, consumer.clientId) : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    ...audit.map((e) => putAudit(t, e)),
  ];
  if (idempotency) items.push(putIdempotency(t, idempotency));
  await transact(t, items, ['consumer', ...audit.map((): RegistryItem => 'audit'), 'idempotency']);
}

export async function getConsumer(t: RegistryTable, clientId: string): Promise<Consumer | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.consumer(clientId), ConsistentRead: true })));
  return out.Item ? toConsumer(out.Item) : undefined;
}

export async function updateConsumer(t: RegistryTable, change: ConsumerChange, idempotency?: IdempotencyRecord): Promise<void> {
  const items = consumerChangeItems(t, change);
  if (idempotency) items.push(putIdempotency(t, idempotency));
  if (change.releaseIdempotency) items.push({ Delete: { TableName: t.name, Key: keys.idempotency(change.releaseIdempotency) } });
  await transact(t, items, [...changeRoles(change), 'idempotency', 'idempotency']);
}

export async function createReview(t: RegistryTable, review: Review, change: ConsumerChange, supersedes?: string): Promise<void> {
  const put: TransactItem = {
    Put: { TableName: t.name, Item: { ...keys.review(review.reviewId), kind: 'review', ...review }, ConditionExpression: 'attribute_not_exists(pk)' },
  };
  const close: TransactItem[] = supersedes
    ? [
        {
          Update: {
            TableName: t.name,
            Key: keys.review(supersedes),
            UpdateExpression: 'SET #status = :status',
            ConditionExpression: 'attribute_exists(pk) AND #status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': 'superseded', ':open': 'open' },
          },
        },
      ]
    : [];
  await transact(t, [put, ...close, ...consumerChangeItems(t, change)], ['review', ...close.map((): RegistryItem => 'review'), ...changeRoles(change)]);
}

export async function getReview(t: RegistryTable, reviewId: string): Promise<Review | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.review(reviewId), ConsistentRead: true })));
  return out.Item ? strip<Review>(out.Item) : undefined;
}

export async function decideReview(
  t: RegistryTable,
  reviewId: string,
  decision: Pick<Review, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>,
  change: ConsumerChange,
): Promise<void> {
  const update: TransactItem = {
    Update: {
      TableName: t.name,
      Key: keys.review(reviewId),
      UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at, #comment = :comment',
      ConditionExpression: 'attribute_exists(pk) AND #status = :open',
      ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
      ExpressionAttributeValues: {
        ':status': decision.status,
        ':by': decision.decidedBy,
        ':at': decision.decidedAt,
        ':comment': decision.comment ?? '',
        ':open': 'open',
      },
    },
  };
  await transact(t, [update, ...consumerChangeItems(t, change)], ['review', ...changeRoles(change)]);
}

export async function markReviewDelivered(t: RegistryTable, reviewId: string, at: Date): Promise<void> {
  await send(() =>
    t.db.send(
      new UpdateCommand({
        TableName: t.name,
        Key: keys.review(reviewId),
        UpdateExpression: 'SET deliveredAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    ),
  );
}

/** The consumer update (conditioned on status and audit position) and its audit event, as transaction items. */
function consumerChangeItems(t: RegistryTable, change: ConsumerChange): TransactItem[] {
  const names: Record<string, string> = { '#status': 'status', '#auditSeq': 'auditSeq', '#auditHead': 'auditHead' };
  const values: Record<string, unknown> = { ':expectSeq': change.expect.auditSeq, ':seq': change.audit.seq, ':head': change.audit.hash };
  const sets = ['#auditSeq = :seq', '#auditHead = :head'];
  const removes: string[] = [];
  assignFields(change.set, 'f', { names, values, sets, removes });
  if ('attentionAt' in change.set) {
    const at = change.set.attentionAt;
    if (at === undefined) removes.push('gsi1pk', 'gsi1sk');
    else {
      const index = keys.attention(at, change.clientId);
      Object.assign(values, { ':gsi1pk': index.gsi1pk, ':gsi1sk': index.gsi1sk });
      sets.push('gsi1pk = :gsi1pk', 'gsi1sk = :gsi1sk');
    }
  }
  const statuses = placeholders(change.expect.statuses, 's', values);
  const items: TransactItem[] = [
    {
      Update: {
        TableName: t.name,
        Key: keys.consumer(change.clientId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: `attribute_exists(pk) AND #auditSeq = :expectSeq AND #status IN (${statuses.join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    },
    putAudit(t, change.audit),
  ];
  if (change.request) items.push(requestItem(t, change.clientId, change.request));
  if (change.revocation) items.push({ Put: { TableName: t.name, Item: revokedConsumerItem(change.revocation) } });
  return items;
}

/** A change request's write: created once, or updated only from an expected status and version (then version + 1). */
function requestItem(t: RegistryTable, clientId: string, write: RequestWrite): TransactItem {
  if ('create' in write) {
    return {
      Put: {
        TableName: t.name,
        Item: { ...keys.request(clientId, write.create.requestId), kind: 'request', ...write.create },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }
  const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
  const values: Record<string, unknown> = { ':expectVersion': write.expect.version, ':version': write.expect.version + 1 };
  const sets = ['#version = :version'];
  const removes: string[] = [];
  assignFields(write.set, 'r', { names, values, sets, removes });
  const statuses = placeholders(write.expect.statuses, 'rs', values);
  return {
    Update: {
      TableName: t.name,
      Key: keys.request(clientId, write.requestId),
      UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: `attribute_exists(pk) AND #version = :expectVersion AND #status IN (${statuses.join(', ')})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

export async function getRequest(t: RegistryTable, clientId: string, requestId: string): Promise<ChangeRequest | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.request(clientId, requestId), ConsistentRead: true })));
  return out.Item ? strip<ChangeRequest>(out.Item) : undefined;
}

/** Every item of partition `pk` whose sort key starts with `prefix`, in sort-key order, read consistently page by page. */
async function queryAll(t: RegistryTable, pk: string, prefix: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await send(() =>
      t.db.send(
        new QueryCommand({
          TableName: t.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      ),
    );
    for (const item of page.Items ?? []) items.push(item);
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export async function listRequests(t: RegistryTable, clientId: string): Promise<ChangeRequest[]> {
  const requests = (await queryAll(t, keys.consumer(clientId).pk, keys.requestPrefix)).map((item) => strip<ChangeRequest>(item));
  return requests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export async function listAllRequests(t: RegistryTable, limit: number, next?: string): Promise<{ requests: ChangeRequest[]; next?: string }> {
  const out = await scanKind(t, 'request', limit, next);
  return { requests: out.items.map((item) => strip<ChangeRequest>(item)), next: out.next };
}

export async function getPolicyRollout(t: RegistryTable): Promise<PolicyRollout | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.policyRollout, ConsistentRead: true })));
  return out.Item ? strip<PolicyRollout>(out.Item) : undefined;
}

export async function savePolicyRollout(t: RegistryTable, next: PolicyRollout, expectRevision: number): Promise<boolean> {
  try {
    await t.db.send(
      new PutCommand({
        TableName: t.name,
        Item: { ...keys.policyRollout, kind: 'policy-rollout', ...next, revision: expectRevision + 1 },
        ConditionExpression: expectRevision === 0 ? 'attribute_not_exists(pk)' : 'revision = :rev',
        ...(expectRevision === 0 ? {} : { ExpressionAttributeValues: { ':rev': expectRevision } }),
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw new RegistryError('unavailable', "Could not record the policy rollout's progress", { cause: error });
  }
}

export async function listDue(t: RegistryTable, now: Date, limit: number, next?: string): Promise<DuePage> {
  const index = TABLE_SCHEMA.indexes[0];
  const start = decodeCursor(next, ['pk', 'sk', 'gsi1pk', 'gsi1sk'], { gsi1pk: keys.attentionPartition });
  const out = await send(() =>
    t.db.send(
      new QueryCommand({
        TableName: t.name,
        IndexName: index.name,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk <= :now',
        // `~` sorts after every character of a client id: everything due at or before `now` is included.
        ExpressionAttributeValues: { ':p': keys.attentionPartition, ':now': `${now.toISOString()}#~` },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    ),
  );
  return { consumers: (out.Items ?? []).map((item) => toConsumer(item)), next: encodeCursor(out.LastEvaluatedKey) };
}

export async function rearm(
  t: RegistryTable,
  clientId: string,
  attentionAt: string | undefined,
  expectAuditSeq: number,
  requestCheck?: { readonly requestCheckAt: string | undefined },
): Promise<boolean> {
  const index = attentionAt === undefined ? undefined : keys.attention(attentionAt, clientId);
  const set = index ? ['attentionAt = :at', 'gsi1pk = :p', 'gsi1sk = :s'] : [];
  const remove = index ? [] : ['attentionAt', 'gsi1pk', 'gsi1sk'];
  if (requestCheck) {
    if (requestCheck.requestCheckAt === undefined) remove.push('requestCheckAt');
    else set.push('requestCheckAt = :rc');
  }
  try {
    await t.db.send(
      new UpdateCommand({
        TableName: t.name,
        Key: keys.consumer(clientId),
        UpdateExpression: [set.length > 0 ? `SET ${set.join(', ')}` : '', remove.length > 0 ? `REMOVE ${remove.join(', ')}` : ''].filter(Boolean).join(' '),
        ConditionExpression: 'attribute_exists(pk) AND auditSeq = :seq',
        ExpressionAttributeValues: {
          ':seq': expectAuditSeq,
          ...(index ? { ':at': attentionAt, ':p': index.gsi1pk, ':s': index.gsi1sk } : {}),
          ...(requestCheck?.requestCheckAt !== undefined ? { ':rc': requestCheck.requestCheckAt } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw new RegistryError('unavailable', "Could not re-arm the consumer's attention time", { cause: error });
  }
}

export async function appendSystemAudit(t: RegistryTable, stream: string, event: Pick<AuditEvent, 'type' | 'at' | 'actor' | 'data'>): Promise<AuditEvent> {
  for (let attempt = 1; ; attempt++) {
    const last = await send(() =>
      t.db.send(
        new QueryCommand({
          TableName: t.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.systemAudit(stream, 0).pk, ':prefix': keys.auditPrefix },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const head = last.Items?.[0] ? strip<AuditEvent>(last.Items[0]) : undefined;
    const next = chainEvent({ seq: head?.seq ?? 0, head: head?.hash ?? GENESIS_HASH }, { clientId: `system:${stream}`, ...event });
    try {
      await t.db.send(
        new PutCommand({
          TableName: t.name,
          Item: { ...keys.systemAudit(stream, next.seq), kind: 'audit', ...next },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return next;
    } catch (error) {
      // Another writer took this position: chain after its event instead.
      if ((error as Error).name !== 'ConditionalCheckFailedException')
        throw new RegistryError('unavailable', 'The audit event could not be written.', { cause: error });
      if (attempt >= 4) throw new RegistryError('condition_failed', 'The audit stream kept changing; the event was not written.', { cause: error });
    }
  }
}

export async function listSystemAudit(t: RegistryTable, stream: string): Promise<AuditEvent[]> {
  return listAuditUnder(t, keys.systemAudit(stream, 0).pk);
}

export async function listAudit(t: RegistryTable, clientId: string): Promise<AuditEvent[]> {
  return listAuditUnder(t, keys.consumer(clientId).pk);
}

async function listAuditUnder(t: RegistryTable, pk: string): Promise<AuditEvent[]> {
  return (await queryAll(t, pk, keys.auditPrefix)).map((item) => strip<AuditEvent>(item));
}

export async function getIdempotency(t: RegistryTable, keyHash: string): Promise<IdempotencyRecord | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.idempotency(keyHash), ConsistentRead: true })));
  return out.Item ? strip<IdempotencyRecord>(out.Item) : undefined;
}

export async function listConsumers(t: RegistryTable, limit: number, next?: string): Promise<{ consumers: Consumer[]; next?: string }> {
  const out = await scanKind(t, 'consumer', limit, next);
  return { consumers: out.items.map((item) => toConsumer(item)), next: out.next };
}

/** One page of a Scan for items of one kind (`limit` items examined; a page may hold fewer matches). */
async function scanKind(t: RegistryTable, kind: string, limit: number, next?: string): Promise<{ items: Record<string, unknown>[]; next?: string }> {
  const start = decodeCursor(next);
  const out = await send(() =>
    t.db.send(
      new ScanCommand({
        TableName: t.name,
        FilterExpression: '#kind = :kind',
        ExpressionAttributeNames: { '#kind': 'kind' },
        ExpressionAttributeValues: { ':kind': kind },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    ),
  );
  const cursor = encodeCursor(out.LastEvaluatedKey);
  return { items: out.Items ?? [], ...(cursor ? { next: cursor } : {}) };
}

export async function recordScopes(t: RegistryTable, clientId: string, scopes: readonly string[]): Promise<void> {
  if (scopes.length === 0) return;
  await send(() =>
    t.db.send(
      new UpdateCommand({
        TableName: t.name,
        Key: keys.consumer(clientId),
        // A string set: concurrent token requests adding the same scope converge.
        UpdateExpression: 'ADD usedScopeSet :s',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':s': new Set(scopes) },
      }),
    ),
  );
}

export async function recordUse(t: RegistryTable, clientId: string, at: Date, minIntervalMs: number): Promise<void> {
  try {
    await t.db.send(
      new UpdateCommand({
        TableName: t.name,
        Key: keys.consumer(clientId),
        UpdateExpression: 'SET lastUsedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt <= :cutoff)',
        ExpressionAttributeValues: { ':now': at.toISOString(), ':cutoff': new Date(at.getTime() - minIntervalMs).toISOString() },
      }),
    );
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return; // another instance recorded it
    throw new RegistryError('unavailable', 'Could not record use', { cause: error });
  }
}

export async function claimOnce(t: RegistryTable, marker: string, expiresAtEpoch: number, now: Date): Promise<boolean> {
  try {
    await t.db.send(
      new PutCommand({
        TableName: t.name,
        Item: { ...keys.marker(marker), kind: 'marker', ttl: expiresAtEpoch },
        // An expired marker that TTL has not yet removed may be claimed again.
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw new RegistryError('unavailable', 'Could not record a one-time marker', { cause: error });
  }
}

export async function hasMarker(t: RegistryTable, marker: string, now: Date): Promise<boolean> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.marker(marker), ConsistentRead: true })));
  return out.Item !== undefined && Number(out.Item['ttl']) >= Math.floor(now.getTime() / 1000);
}

/** A later entry for the same consumer replaces the earlier one: its `since` is later, so it refuses more. */
function revokedConsumerItem(entry: RevokedConsumer): Record<string, unknown> {
  return { ...keys.revokedConsumer(entry.clientId), kind: 'revocation', ...entry, ttl: entry.until };
}

export async function recordTokenRevocation(t: RegistryTable, token: RevokedToken): Promise<void> {
  await send(() => t.db.send(new PutCommand({ TableName: t.name, Item: { ...keys.revokedToken(token.jti), kind: 'revocation', ...token, ttl: token.exp } })));
}

export async function listRevocations(t: RegistryTable, now: Date): Promise<Revocations> {
  const nowS = Math.floor(now.getTime() / 1000);
  const live = async (prefix: string) => (await queryAll(t, keys.revocationsPartition, prefix)).filter((item) => Number(item['ttl']) >= nowS);
  const [tokens, consumers] = await Promise.all([live(keys.revokedTokenPrefix), live(keys.revokedConsumerPrefix)]);
  return {
    tokens: tokens.map((item) => ({ jti: String(item['jti']), exp: Number(item['exp']) })),
    consumers: consumers.map((item) => strip<RevokedConsumer>(item)),
  };
}

function putAudit(t: RegistryTable, event: AuditEvent): TransactItem {
  return {
    Put: {
      TableName: t.name,
      Item: { ...keys.audit(event.clientId, event.seq), kind: 'audit', ...event },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

function putIdempotency(t: RegistryTable, record: IdempotencyRecord): TransactItem {
  return {
    Put: {
      TableName: t.name,
      Item: { ...keys.idempotency(record.keyHash), kind: 'idempotency', ...record, ttl: record.expiresAtEpoch },
      // A record past its TTL that DynamoDB has not yet deleted may be replaced.
      ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':now': Math.floor(Date.parse(record.createdAt) / 1000) },
    },
  };
}

/** Runs a transaction; `roles` names each item (by position) so a failed condition says which record it was. */
async function transact(t: RegistryTable, items: TransactItem[], roles: readonly RegistryItem[]): Promise<void> {
  try {
    await t.db.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    if ((error as Error).name === 'TransactionCanceledException') {
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (failed >= 0) {
        const item = roles[failed];
        throw new RegistryError('condition_failed', 'The record changed or already exists; nothing was written.', { cause: error, ...(item ? { item } : {}) });
      }
    }
    if (unconfirmed(error)) {
      throw new RegistryError('unavailable', 'The registry did not confirm the write; it may or may not have been made.', {
        cause: error,
        outcomeUnknown: true,
      });
    }
    throw new RegistryError('unavailable', 'The registry could not complete the write; nothing was written.', { cause: error });
  }
}

/** Errors after which a sent write may still have applied: the answer, not the request, was lost. */
const UNCONFIRMED_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const UNCONFIRMED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

function unconfirmed(error: unknown): boolean {
  const e = error as (Error & { code?: unknown }) | undefined;
  return e !== undefined && (UNCONFIRMED_ERRORS.has(e.name) || (typeof e.code === 'string' && UNCONFIRMED_CODES.has(e.code)));
}

async function send<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new RegistryError('unavailable', 'The registry could not be read.', { cause: error });
  }
}
