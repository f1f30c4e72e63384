import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { LIVE_STATUSES, type SoftwareConsumers } from '../../core/registration/software-consumers.js';
import { RegistryError } from '../../core/registry/errors.js';
import type { RegistryTable } from './table/table.js';
import { registryTable } from './dynamo-registry.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';
import { TABLE_SCHEMA } from './table-schema.js';

const INDEX = TABLE_SCHEMA.indexes[1];

/** Live consumers per vouched software_id, counted with a Query on the sparse `software` index (which projects `status`). */
export function dynamoSoftwareConsumers(table: RegistryTable): SoftwareConsumers {
  return {
    async countLive(softwareId) {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      try {
        do {
          const page = await table.db.send(
            new QueryCommand({
              TableName: table.name,
              IndexName: INDEX.name,
              KeyConditionExpression: '#software = :software',
              FilterExpression: `#status IN (${LIVE_STATUSES.map((_, i) => `:s${i}`).join(', ')})`,
              ExpressionAttributeNames: { '#software': INDEX.partitionKey, '#status': 'status' },
              ExpressionAttributeValues: { ':software': softwareId, ...Object.fromEntries(LIVE_STATUSES.map((s, i) => [`:s${i}`, s])) },
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          count += page.Count ?? 0;
          start = page.LastEvaluatedKey;
        } while (start);
      } catch (cause) {
        throw new RegistryError('unavailable', 'Could not count the clients of a software_id', { cause });
      }
      return count;
    },
  };
}

/** The register Lambda's counter: the table the stack names, with the request-path client settings. */
export function softwareConsumersFromEnv(): SoftwareConsumers {
  return dynamoSoftwareConsumers(registryTable({ tableName: process.env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }));
}
