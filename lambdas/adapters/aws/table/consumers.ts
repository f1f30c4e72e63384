import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../../../core/audit/event.js';
import type { Consumer } from '../../../core/consumer/consumer.js';
import type { ConsumerChange, ConsumerStore } from '../../../core/ports/consumers.js';
import type { IdempotencyRecord } from '../../../core/ports/markers.js';
import { RegistryError, type RegistryItem } from '../../../core/registry/errors.js';
import { keys } from '../table-schema.js';
import { changeRoles, consumerChangeItems } from './consumer-change.js';
import { listAuditUnder, putAudit, putIdempotency, type RegistryTable, scanKind, send, toConsumer, transact, type TransactItem } from './table.js';

async function createConsumer(t: RegistryTable, consumer: Consumer, audit: readonly AuditEvent[], idempotency?: IdempotencyRecord): Promise<void> {
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

async function getConsumer(t: RegistryTable, clientId: string): Promise<Consumer | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.consumer(clientId), ConsistentRead: true })));
  return out.Item ? toConsumer(out.Item) : undefined;
}

async function updateConsumer(t: RegistryTable, change: ConsumerChange, idempotency?: IdempotencyRecord): Promise<void> {
  const items = consumerChangeItems(t, change);
  if (idempotency) items.push(putIdempotency(t, idempotency));
  if (change.releaseIdempotency) items.push({ Delete: { TableName: t.name, Key: keys.idempotency(change.releaseIdempotency) } });
  await transact(t, items, [...changeRoles(change), 'idempotency', 'idempotency']);
}

async function listAudit(t: RegistryTable, clientId: string): Promise<AuditEvent[]> {
  return listAuditUnder(t, keys.consumer(clientId).pk);
}

async function listConsumers(t: RegistryTable, limit: number, next?: string): Promise<{ consumers: Consumer[]; next?: string }> {
  const out = await scanKind(t, 'consumer', limit, next);
  return { consumers: out.items.map((item) => toConsumer(item)), next: out.next };
}

async function recordScopes(t: RegistryTable, clientId: string, scopes: readonly string[]): Promise<void> {
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

async function recordUse(t: RegistryTable, clientId: string, at: Date, minIntervalMs: number): Promise<void> {
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

/** Consumers and their audit trail on the registry table; a change also writes its idempotency record and change request in the same transaction. */
export function dynamoConsumers(t: RegistryTable): ConsumerStore {
  return {
    createConsumer: createConsumer.bind(undefined, t),
    getConsumer: getConsumer.bind(undefined, t),
    updateConsumer: updateConsumer.bind(undefined, t),
    listAudit: listAudit.bind(undefined, t),
    listConsumers: listConsumers.bind(undefined, t),
    recordScopes: recordScopes.bind(undefined, t),
    recordUse: recordUse.bind(undefined, t),
  };
}
