import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { chainEvent, GENESIS_HASH, type AuditEvent } from '../../../core/audit/event.js';
import type { SystemAuditLog } from '../../../core/ports/system-audit.js';
import { RegistryError } from '../../../core/registry/errors.js';
import { keys } from '../table-schema.js';
import { listAuditUnder, type RegistryTable, send, strip } from './table.js';

async function appendSystemAudit(t: RegistryTable, stream: string, event: Pick<AuditEvent, 'type' | 'at' | 'actor' | 'data'>): Promise<AuditEvent> {
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

async function listSystemAudit(t: RegistryTable, stream: string): Promise<AuditEvent[]> {
  return listAuditUnder(t, keys.systemAudit(stream, 0).pk);
}

/** System audit streams (`SYSTEM#<stream>` partitions) on the registry table. */
export function dynamoSystemAudit(t: RegistryTable): SystemAuditLog {
  return { appendSystemAudit: appendSystemAudit.bind(undefined, t), listSystemAudit: listSystemAudit.bind(undefined, t) };
}
