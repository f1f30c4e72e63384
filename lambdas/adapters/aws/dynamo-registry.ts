import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SystemAuditLog } from '../../core/ports/system-audit.js';
import type { TableStores } from '../../core/services.js';
import { abortWithCaller } from './caller-abort.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';
import { dynamoAttention } from './table/attention.js';
import { dynamoConsumers } from './table/consumers.js';
import { dynamoMarkers } from './table/markers.js';
import { dynamoRollouts } from './table/policy-rollout.js';
import { dynamoRequests } from './table/requests.js';
import { dynamoReviews } from './table/reviews.js';
import { dynamoRevocations } from './table/revocations.js';
import { dynamoSystemAudit } from './table/system-audit.js';
import type { RegistryTable } from './table/table.js';

/** Options: give a ready DocumentClient (tests, local mode) or a client config, never both. */
export type DynamoRegistryOptions =
  | { readonly tableName: string; readonly documentClient: DynamoDBDocumentClient; readonly clientConfig?: never }
  | { readonly tableName: string; readonly clientConfig?: DynamoDBClientConfig; readonly documentClient?: never };

/** The table of these options: the given document client, or one over a DynamoDB client that honours the caller's abort signal. */
export function registryTable(options: DynamoRegistryOptions): RegistryTable {
  const db =
    options.documentClient ??
    DynamoDBDocumentClient.from(abortWithCaller(new DynamoDBClient(options.clientConfig ?? {})), { marshallOptions: { removeUndefinedValues: true } });
  return { name: options.tableName, db };
}

/** The registry table of a Lambda function: the table the stack names, with the request-path client settings. */
export function registryTableFromEnv(): RegistryTable {
  return registryTable({ tableName: process.env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG });
}

/** Every port over the registry table, and the system audit streams kept in it. */
export interface DynamoStores extends TableStores {
  readonly systemAudit: SystemAuditLog;
}

/** The ports over one DynamoDB table, one adapter per aggregate; the same code serves AWS and local mode (dynalite). */
export function dynamoStores(table: RegistryTable | DynamoRegistryOptions): DynamoStores {
  const t = 'db' in table ? table : registryTable(table);
  return {
    consumers: dynamoConsumers(t),
    reviews: dynamoReviews(t),
    requests: dynamoRequests(t),
    markers: dynamoMarkers(t),
    attention: dynamoAttention(t),
    rollouts: dynamoRollouts(t),
    revocations: dynamoRevocations(t),
    systemAudit: dynamoSystemAudit(t),
  };
}

/** The registry table's ports in a Lambda function: the table the stack names, with the request-path client settings. */
export function dynamoStoresFromEnv(): DynamoStores {
  return dynamoStores(registryTableFromEnv());
}
