import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as operations from './dynamo-operations.js';
import type { RegistryOperations, RegistryTable, TableRegistry } from './dynamo-operations.js';
import { abortWithCaller } from './caller-abort.js';
import { ENV } from './env.js';
import { REQUEST_PATH_CLIENT_CONFIG } from './request-path.js';

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

/**
 * A registry with only the given operations bound to the table. Esbuild keeps only what an entry imports, so a Lambda
 * bundle carries the registry code (and DynamoDB commands) its handler calls and no more. Calling an operation that was
 * not given is a bug in the entry's list and fails loudly (the built-bundle tests check each bundle's
 * list against every operation its code names).
 */
export function registryWith(table: RegistryTable, given: Partial<RegistryOperations>): TableRegistry {
  const bound: Record<string, unknown> = {};
  for (const [name, operation] of Object.entries(given) as Array<[string, (table: RegistryTable, ...args: unknown[]) => unknown]>) {
    bound[name] = (...args: unknown[]) => operation(table, ...args);
  }
  return failingBeyond(bound);
}

/**
 * Local mode's registry of one function: the named operations of the shared registry (looked up at each call, so a test
 * that stubs the shared registry reaches every function), the others failing as they would in that function's Lambda.
 */
export function registryView(full: TableRegistry, names: readonly (keyof TableRegistry)[]): TableRegistry {
  const bound: Record<string, unknown> = {};
  for (const name of names) bound[name] = (...args: unknown[]) => (full[name] as (...a: unknown[]) => unknown)(...args);
  return failingBeyond(bound);
}

/** `bound` as a whole registry: any operation not in it fails loudly when called. */
function failingBeyond(bound: Record<string | symbol, unknown>): TableRegistry {
  const missing = (name: string) => () => {
    throw new Error(
      `This function's registry has no ${name} operation: add it to the function's registry list in lambdas/contracts/functions.ts (which its role is granted) and to those its entry gives dynamoRegistryFromEnv.`,
    );
  };
  return new Proxy(bound, { get: (target, name) => (name in target ? target[name] : missing(String(name))) }) as unknown as TableRegistry;
}

/** Every operation of the registry: local mode, the CLI, benchmarks and tests, where bundle size does not matter. */
const ALL_OPERATIONS: RegistryOperations = operations;

/** The Registry port (and the sweep's, audit's and rollout's) over one DynamoDB table; the same code serves AWS and local mode (dynalite). */
// The class binds the operations at run time (Object.assign); the interface gives them their types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface DynamoRegistry extends TableRegistry {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class DynamoRegistry {
  constructor(options: DynamoRegistryOptions) {
    Object.assign(this, registryWith(registryTable(options), ALL_OPERATIONS));
  }
}

/**
 * The registry factory of a Lambda entry with a `table:*` capability: the table the stack names, the request-path client
 * settings, and the operations (from dynamo-operations.ts) its handler calls.
 */
export function dynamoRegistryFromEnv(given: Partial<RegistryOperations>): () => TableRegistry {
  return () => registryWith(registryTable({ tableName: process.env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }), given);
}
