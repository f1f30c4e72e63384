import type { ConsumerChange } from '../../../core/ports/consumers.js';
import type { RegistryItem } from '../../../core/registry/errors.js';
import type { RequestWrite } from '../../../core/requests/change-request.js';
import { keys } from '../table-schema.js';
import { revokedConsumerItem } from './revocations.js';
import { assignFields, placeholders, putAudit, type RegistryTable, type TransactItem } from './table.js';

/*
 * A consumer's change as transaction items: the consumer update, its audit event and any change request written with
 * it. Consumers, reviews and requests are separate ports, but a change of one is committed with the consumer's change
 * and audit event in one DynamoDB transaction, so the adapter that owns each transaction (consumers.ts, reviews.ts)
 * builds it from these items.
 */

/** Names each item consumerChangeItems returns, so a failed condition says which record it was. */
export const changeRoles = (change: ConsumerChange): RegistryItem[] => [
  'consumer',
  'audit',
  ...(change.request ? (['request'] as const) : []),
  ...(change.revocation ? (['revocation'] as const) : []),
];

/** The consumer update (conditioned on status and audit position) and its audit event, as transaction items. */
export function consumerChangeItems(t: RegistryTable, change: ConsumerChange): TransactItem[] {
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
