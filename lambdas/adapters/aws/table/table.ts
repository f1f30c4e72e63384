import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, ScanCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../../core/audit/event.js';
import type { Consumer } from '../../../core/consumer/consumer.js';
import type { IdempotencyRecord } from '../../../core/ports/markers.js';
import { RegistryError, type RegistryItem } from '../../../core/registry/errors.js';
import { keys } from '../table-schema.js';

/*
 * What the registry table's adapters share (one table, keys in table-schema.ts): the table handle, item conversion,
 * cursors, paging, and the transaction and error mapping every write goes through.
 */

/** The table the registry's operations read and write, and the document client they send through. */
export interface RegistryTable {
  readonly name: string;
  readonly db: DynamoDBDocumentClient;
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const INTERNAL = new Set(['pk', 'sk', 'kind', 'gsi1pk', 'gsi1sk', 'ttl']);
export const strip = <T>(item: Record<string, unknown>): T => Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;

/** A consumer item as the port's Consumer: internal attributes dropped, the used-scope string set as a sorted list. */
export function toConsumer(item: Record<string, unknown>): Consumer {
  const { usedScopeSet, ...rest } = strip<Consumer & { usedScopeSet?: Set<string> }>(item);
  return usedScopeSet === undefined ? rest : { ...rest, usedScopes: [...usedScopeSet].sort() };
}

export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/**
 * The start key a cursor carries, checked to be exactly the key `attributes` (non-empty strings, `fixed` ones equal to
 * their value): anything else would reach DynamoDB as a ValidationException, a 500 for what is the caller's bad input.
 */
export function decodeCursor(
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
export function assignFields(
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
export function placeholders(list: readonly unknown[], prefix: string, values: Record<string, unknown>): string[] {
  return list.map((v, i) => {
    values[`:${prefix}${i}`] = v;
    return `:${prefix}${i}`;
  });
}

/** Every item of partition `pk` whose sort key starts with `prefix`, in sort-key order, read consistently page by page. */
export async function queryAll(t: RegistryTable, pk: string, prefix: string): Promise<Record<string, unknown>[]> {
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

export async function listAuditUnder(t: RegistryTable, pk: string): Promise<AuditEvent[]> {
  return (await queryAll(t, pk, keys.auditPrefix)).map((item) => strip<AuditEvent>(item));
}

/** One page of a Scan for items of one kind (`limit` items examined; a page may hold fewer matches). */
export async function scanKind(t: RegistryTable, kind: string, limit: number, next?: string): Promise<{ items: Record<string, unknown>[]; next?: string }> {
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

export function putAudit(t: RegistryTable, event: AuditEvent): TransactItem {
  return {
    Put: {
      TableName: t.name,
      Item: { ...keys.audit(event.clientId, event.seq), kind: 'audit', ...event },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export function putIdempotency(t: RegistryTable, record: IdempotencyRecord): TransactItem {
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
export async function transact(t: RegistryTable, items: TransactItem[], roles: readonly RegistryItem[]): Promise<void> {
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

export async function send<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new RegistryError('unavailable', 'The registry could not be read.', { cause: error });
  }
}
