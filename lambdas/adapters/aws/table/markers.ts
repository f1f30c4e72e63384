import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, MarkerStore } from '../../../core/ports/markers.js';
import { RegistryError } from '../../../core/registry/errors.js';
import { keys } from '../table-schema.js';
import { type RegistryTable, send, strip } from './table.js';

async function claimOnce(t: RegistryTable, marker: string, expiresAtEpoch: number, now: Date): Promise<boolean> {
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

async function hasMarker(t: RegistryTable, marker: string, now: Date): Promise<boolean> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.marker(marker), ConsistentRead: true })));
  return out.Item !== undefined && Number(out.Item['ttl']) >= Math.floor(now.getTime() / 1000);
}

async function getIdempotency(t: RegistryTable, keyHash: string): Promise<IdempotencyRecord | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.idempotency(keyHash), ConsistentRead: true })));
  return out.Item ? strip<IdempotencyRecord>(out.Item) : undefined;
}

/** One-time markers and idempotency records on the registry table (TTL items). */
export function dynamoMarkers(t: RegistryTable): MarkerStore {
  return {
    claimOnce: claimOnce.bind(undefined, t),
    hasMarker: hasMarker.bind(undefined, t),
    getIdempotency: getIdempotency.bind(undefined, t),
  };
}
