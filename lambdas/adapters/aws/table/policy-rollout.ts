import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PolicyRollout, PolicyRolloutStore } from '../../../core/ports/policy-rollout.js';
import { RegistryError } from '../../../core/registry/errors.js';
import { keys } from '../table-schema.js';
import { type RegistryTable, send, strip } from './table.js';

async function getPolicyRollout(t: RegistryTable): Promise<PolicyRollout | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.policyRollout, ConsistentRead: true })));
  return out.Item ? strip<PolicyRollout>(out.Item) : undefined;
}

async function savePolicyRollout(t: RegistryTable, next: PolicyRollout, expectRevision: number): Promise<boolean> {
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

/** The policy rollout record on the registry table. */
export function dynamoRollouts(t: RegistryTable): PolicyRolloutStore {
  return { getPolicyRollout: getPolicyRollout.bind(undefined, t), savePolicyRollout: savePolicyRollout.bind(undefined, t) };
}
