import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttentionIndex, DuePage } from '../../../core/ports/attention.js';
import { RegistryError } from '../../../core/registry/errors.js';
import { keys, TABLE_SCHEMA } from '../table-schema.js';
import { decodeCursor, encodeCursor, type RegistryTable, send, toConsumer } from './table.js';

async function listDue(t: RegistryTable, now: Date, limit: number, next?: string): Promise<DuePage> {
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

async function rearm(
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

/** The sweep's sparse `attention` index over the registry table's consumers. */
export function dynamoAttention(t: RegistryTable): AttentionIndex {
  return { listDue: listDue.bind(undefined, t), rearm: rearm.bind(undefined, t) };
}
