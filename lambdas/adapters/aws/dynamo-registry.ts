import { DynamoDBClient, TransactionCanceledException, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
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
import type { AttentionIndex, ConsumerChange, DuePage, IdempotencyRecord, PolicyRollout, PolicyRolloutStore, Registry, SystemAuditLog } from '../../core/ports.js';
import type { ChangeRequest, RequestWrite } from '../../core/requests/change-request.js';
import type { Review } from '../../core/review/review.js';
import { RegistryError, type RegistryItem } from '../../core/registry/errors.js';
import { keys, TABLE_SCHEMA } from './table-schema.js';
import { abortWithCaller } from './caller-abort.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const INTERNAL = new Set(['pk', 'sk', 'kind', 'gsi1pk', 'gsi1sk', 'ttl']);
const strip = <T>(item: Record<string, unknown>): T => Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;

/** A consumer item as the port's Consumer: internal attributes dropped, the used-scope string set as a sorted list. */
function toConsumer(item: Record<string, unknown>): Consumer {
  const { usedScopeSet, ...rest } = strip<Consumer & { usedScopeSet?: Set<string> }>(item);
  return usedScopeSet === undefined ? rest : { ...rest, usedScopes: [...usedScopeSet].sort() };
}

const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined => (key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined);

function decodeCursor(cursor: string | undefined): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (key && typeof key === 'object' && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new RegistryError('invalid_cursor', 'The cursor is not one this registry handed out.');
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

/** Names each item #consumerChangeItems returns, so a failed condition says which record it was. */
const changeRoles = (change: ConsumerChange): RegistryItem[] => ['consumer', 'audit', ...(change.request ? (['request'] as const) : [])];

/** Options: give a ready DocumentClient (tests, local mode) or a client config, never both. */
export type DynamoRegistryOptions =
  | { readonly tableName: string; readonly documentClient: DynamoDBDocumentClient; readonly clientConfig?: never }
  | { readonly tableName: string; readonly clientConfig?: DynamoDBClientConfig; readonly documentClient?: never };

/** The Registry port over one DynamoDB table; the same code serves AWS and local mode (dynalite). */
export class DynamoRegistry implements Registry, SystemAuditLog, AttentionIndex, PolicyRolloutStore {
  readonly #table: string;
  readonly #db: DynamoDBDocumentClient;

  constructor(options: DynamoRegistryOptions) {
    this.#table = options.tableName;
    this.#db =
      options.documentClient ??
      DynamoDBDocumentClient.from(abortWithCaller(new DynamoDBClient(options.clientConfig ?? {})), { marshallOptions: { removeUndefinedValues: true } });
  }

  async createConsumer(consumer: Consumer, audit: readonly AuditEvent[], idempotency?: IdempotencyRecord): Promise<void> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.#table,
          Item: {
            ...keys.consumer(consumer.clientId),
            kind: 'consumer',
            ...consumer,
            ...(consumer.attentionAt ? keys.attention(consumer.attentionAt, consumer.clientId) : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...audit.map((e) => this.#putAudit(e)),
    ];
    if (idempotency) items.push(this.#putIdempotency(idempotency));
    await this.#transact(items, ['consumer', ...audit.map((): RegistryItem => 'audit'), 'idempotency']);
  }

  async getConsumer(clientId: string): Promise<Consumer | undefined> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.consumer(clientId), ConsistentRead: true })));
    return out.Item ? toConsumer(out.Item) : undefined;
  }

  async updateConsumer(change: ConsumerChange, idempotency?: IdempotencyRecord): Promise<void> {
    const items = this.#consumerChangeItems(change);
    if (idempotency) items.push(this.#putIdempotency(idempotency));
    if (change.releaseIdempotency) items.push({ Delete: { TableName: this.#table, Key: keys.idempotency(change.releaseIdempotency) } });
    await this.#transact(items, [...changeRoles(change), 'idempotency', 'idempotency']);
  }

  async createReview(review: Review, change: ConsumerChange, supersedes?: string): Promise<void> {
    const put: TransactItem = {
      Put: { TableName: this.#table, Item: { ...keys.review(review.reviewId), kind: 'review', ...review }, ConditionExpression: 'attribute_not_exists(pk)' },
    };
    const close: TransactItem[] = supersedes
      ? [
          {
            Update: {
              TableName: this.#table,
              Key: keys.review(supersedes),
              UpdateExpression: 'SET #status = :status',
              ConditionExpression: 'attribute_exists(pk) AND #status = :open',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':status': 'superseded', ':open': 'open' },
            },
          },
        ]
      : [];
    await this.#transact([put, ...close, ...this.#consumerChangeItems(change)], ['review', ...close.map((): RegistryItem => 'review'), ...changeRoles(change)]);
  }

  async getReview(reviewId: string): Promise<Review | undefined> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.review(reviewId), ConsistentRead: true })));
    return out.Item ? strip<Review>(out.Item) : undefined;
  }

  async decideReview(reviewId: string, decision: Pick<Review, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>, change: ConsumerChange): Promise<void> {
    const update: TransactItem = {
      Update: {
        TableName: this.#table,
        Key: keys.review(reviewId),
        UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at, #comment = :comment',
        ConditionExpression: 'attribute_exists(pk) AND #status = :open',
        ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
        ExpressionAttributeValues: { ':status': decision.status, ':by': decision.decidedBy, ':at': decision.decidedAt, ':comment': decision.comment ?? '', ':open': 'open' },
      },
    };
    await this.#transact([update, ...this.#consumerChangeItems(change)], ['review', ...changeRoles(change)]);
  }

  async markReviewDelivered(reviewId: string, at: Date): Promise<void> {
    await this.#send(() =>
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.review(reviewId),
          UpdateExpression: 'SET deliveredAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at.toISOString() },
        }),
      ),
    );
  }

  /** The consumer update (conditioned on status and audit position) and its audit event, as transaction items. */
  #consumerChangeItems(change: ConsumerChange): TransactItem[] {
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
          TableName: this.#table,
          Key: keys.consumer(change.clientId),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: `attribute_exists(pk) AND #auditSeq = :expectSeq AND #status IN (${statuses.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      this.#putAudit(change.audit),
    ];
    if (change.request) items.push(this.#requestItem(change.clientId, change.request));
    return items;
  }

  /** A change request's write: created once, or updated only from an expected status and version (then version + 1). */
  #requestItem(clientId: string, write: RequestWrite): TransactItem {
    if ('create' in write) {
      return {
        Put: {
          TableName: this.#table,
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
        TableName: this.#table,
        Key: keys.request(clientId, write.requestId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: `attribute_exists(pk) AND #version = :expectVersion AND #status IN (${statuses.join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  async getRequest(clientId: string, requestId: string): Promise<ChangeRequest | undefined> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.request(clientId, requestId), ConsistentRead: true })));
    return out.Item ? strip<ChangeRequest>(out.Item) : undefined;
  }

  async listRequests(clientId: string): Promise<ChangeRequest[]> {
    const requests: ChangeRequest[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.#send(() =>
        this.#db.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': keys.consumer(clientId).pk, ':prefix': keys.requestPrefix },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      requests.push(...(out.Items ?? []).map((item) => strip<ChangeRequest>(item)));
      start = out.LastEvaluatedKey;
    } while (start);
    return requests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async listAllRequests(limit: number, next?: string): Promise<{ requests: ChangeRequest[]; next?: string }> {
    const out = await this.#scanKind('request', limit, next);
    return { requests: out.items.map((item) => strip<ChangeRequest>(item)), next: out.next };
  }

  async getPolicyRollout(): Promise<PolicyRollout | undefined> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.policyRollout, ConsistentRead: true })));
    return out.Item ? strip<PolicyRollout>(out.Item) : undefined;
  }

  async savePolicyRollout(next: PolicyRollout, expectRevision: number): Promise<boolean> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...keys.policyRollout, kind: 'policy-rollout', ...next, revision: expectRevision + 1 },
          ConditionExpression: expectRevision === 0 ? 'attribute_not_exists(pk)' : 'revision = :rev',
          ...(expectRevision === 0 ? {} : { ExpressionAttributeValues: { ':rev': expectRevision } }),
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw new RegistryError('unavailable', 'Could not record the policy rollout’s progress', { cause: error });
    }
  }

  async listDue(now: Date, limit: number, next?: string): Promise<DuePage> {
    const index = TABLE_SCHEMA.indexes[0];
    const start = decodeCursor(next);
    const out = await this.#send(() =>
      this.#db.send(
        new QueryCommand({
          TableName: this.#table,
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

  async rearm(clientId: string, attentionAt: string | undefined, expectAuditSeq: number, requestCheck?: { readonly requestCheckAt: string | undefined }): Promise<boolean> {
    const index = attentionAt === undefined ? undefined : keys.attention(attentionAt, clientId);
    const set = index ? ['attentionAt = :at', 'gsi1pk = :p', 'gsi1sk = :s'] : [];
    const remove = index ? [] : ['attentionAt', 'gsi1pk', 'gsi1sk'];
    if (requestCheck) {
      if (requestCheck.requestCheckAt === undefined) remove.push('requestCheckAt');
      else set.push('requestCheckAt = :rc');
    }
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
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
      throw new RegistryError('unavailable', 'Could not re-arm the consumer’s attention time', { cause: error });
    }
  }

  async appendSystemAudit(stream: string, event: Pick<AuditEvent, 'type' | 'at' | 'actor' | 'data'>): Promise<AuditEvent> {
    for (let attempt = 1; ; attempt++) {
      const last = await this.#send(() =>
        this.#db.send(
          new QueryCommand({
            TableName: this.#table,
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
        await this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...keys.systemAudit(stream, next.seq), kind: 'audit', ...next },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return next;
      } catch (error) {
        // Another writer took this position: chain after its event instead.
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw new RegistryError('unavailable', 'The audit event could not be written.', { cause: error });
        if (attempt >= 4) throw new RegistryError('condition_failed', 'The audit stream kept changing; the event was not written.', { cause: error });
      }
    }
  }

  async listSystemAudit(stream: string): Promise<AuditEvent[]> {
    return this.#listAuditUnder(keys.systemAudit(stream, 0).pk);
  }

  async listAudit(clientId: string): Promise<AuditEvent[]> {
    return this.#listAuditUnder(keys.consumer(clientId).pk);
  }

  async #listAuditUnder(pk: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#send(() =>
        this.#db.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.auditPrefix },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      for (const item of page.Items ?? []) events.push(strip<AuditEvent>(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }

  async getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.idempotency(keyHash), ConsistentRead: true })));
    return out.Item ? strip<IdempotencyRecord>(out.Item) : undefined;
  }

  async listConsumers(limit: number, next?: string): Promise<{ consumers: Consumer[]; next?: string }> {
    const out = await this.#scanKind('consumer', limit, next);
    return { consumers: out.items.map((item) => toConsumer(item)), next: out.next };
  }

  /** One page of a Scan for items of one kind (`limit` items examined; a page may hold fewer matches). */
  async #scanKind(kind: string, limit: number, next?: string): Promise<{ items: Record<string, unknown>[]; next?: string }> {
    const start = decodeCursor(next);
    const out = await this.#send(() =>
      this.#db.send(
        new ScanCommand({
          TableName: this.#table,
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

  async recordScopes(clientId: string, scopes: readonly string[]): Promise<void> {
    if (scopes.length === 0) return;
    await this.#send(() =>
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.consumer(clientId),
          // A string set: concurrent token requests adding the same scope converge.
          UpdateExpression: 'ADD usedScopeSet :s',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':s': new Set(scopes) },
        }),
      ),
    );
  }

  async recordUse(clientId: string, at: Date, minIntervalMs: number): Promise<void> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
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

  async claimOnce(marker: string, expiresAtEpoch: number, now: Date): Promise<boolean> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
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

  async hasMarker(marker: string, now: Date): Promise<boolean> {
    const out = await this.#send(() => this.#db.send(new GetCommand({ TableName: this.#table, Key: keys.marker(marker), ConsistentRead: true })));
    return out.Item !== undefined && Number(out.Item['ttl']) >= Math.floor(now.getTime() / 1000);
  }

  #putAudit(event: AuditEvent): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { ...keys.audit(event.clientId, event.seq), kind: 'audit', ...event },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  #putIdempotency(record: IdempotencyRecord): TransactItem {
    return {
      Put: {
        TableName: this.#table,
        Item: { ...keys.idempotency(record.keyHash), kind: 'idempotency', ...record, ttl: record.expiresAtEpoch },
        // A record past its TTL that DynamoDB has not yet deleted may be replaced.
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': Math.floor(Date.parse(record.createdAt) / 1000) },
      },
    };
  }

  /** Runs a transaction; `roles` names each item (by position) so a failed condition says which record it was. */
  async #transact(items: TransactItem[], roles: readonly RegistryItem[]): Promise<void> {
    try {
      await this.#db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException') {
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
        if (failed >= 0) {
          const item = roles[failed];
          throw new RegistryError('condition_failed', 'The record changed or already exists; nothing was written.', { cause: error, ...(item ? { item } : {}) });
        }
      }
      throw new RegistryError('unavailable', 'The registry could not complete the write; nothing was written.', { cause: error });
    }
  }

  async #send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new RegistryError('unavailable', 'The registry could not be read.', { cause: error });
    }
  }
}

/** The registry of a function with a `table:*` capability: the table the stack names, with the request-path client settings. */
export function dynamoRegistryFromEnv(): DynamoRegistry {
  return new DynamoRegistry({ tableName: process.env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG });
}
