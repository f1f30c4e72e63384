import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RegistrationQuota } from '../../core/registration/quota.js';
import { RegistryError } from '../../core/registry/errors.js';
import type { RegistryTable } from './table/table.js';
import { registryTable } from './dynamo-registry.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';
import { keys } from './table-schema.js';

/**
 * The registration quota as counter items in the registry table (TTL'd): one conditional UpdateItem adds 1 unless the
 * limit is reached, so concurrent registrations never overshoot it. It needs UpdateItem on the table, which the register
 * function's role already holds for `updateConsumer`.
 */
export function dynamoRegistrationQuota(table: RegistryTable): RegistrationQuota {
  return {
    async take(subject, window, limit, expiresAtEpoch) {
      try {
        await table.db.send(
          new UpdateCommand({
            TableName: table.name,
            Key: keys.registrationQuota(window, subject),
            UpdateExpression: 'ADD #count :one SET #kind = :kind, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
            ExpressionAttributeNames: { '#count': 'count', '#kind': 'kind', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':kind': 'registration-quota', ':ttl': expiresAtEpoch },
          }),
        );
        return true;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') return false;
        throw new RegistryError('unavailable', 'Could not count the registration against its quota', { cause: error });
      }
    },
  };
}

/** The quota of the register Lambda: the table the stack names, with the request-path client settings. */
export function registrationQuotaFromEnv(): RegistrationQuota {
  return dynamoRegistrationQuota(registryTable({ tableName: process.env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }));
}
