import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { TABLE_SCHEMA } from '../aws/table-schema.js';
import { recoverTransaction, startTransactionProxy } from './dynamo-transactions.js';

export interface LocalDynamo {
  /** dynalite itself, without the transaction proxy (which makes reads wait for transactions): for tests that look half-way. */
  readonly backendEndpoint: string;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * Starts dynalite on a loopback port (persisted under `path`, in memory without it) and creates the table from the shared
 * schema. A persisted table first gets back the pre-images of a transaction a crash interrupted, before anything is served.
 */
export async function startDynalite(options: {
  readonly path?: string | undefined;
  readonly tableName: string;
  /** Runs after the k-th item of each transaction is written: where a crash can be injected. */
  readonly afterTransactionItem?: ((k: number) => void | Promise<void>) | undefined;
}): Promise<LocalDynamo> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // Only a table on disk meets disk faults; an in-memory one (tests, benchmarks) never loads node:domain, whose async
  // hooks every asynchronous call of the process then goes through.
  if (options.path) await containStorageErrors(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const backend = `http://127.0.0.1:${port}`;
  const intentFile = options.path && `${options.path}.transaction.json`;
  if (intentFile) {
    await recoverTransaction(backend, intentFile).catch(async (error: unknown) => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    });
  }
  const proxy = await startTransactionProxy(backend, [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey], {
    intentFile,
    afterItem: options.afterTransactionItem,
  });
  const endpoint = proxy.endpoint;
  // dynalite accepts any credentials; fixed dummy ones keep the SDK from searching the machine for real ones.
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await createTable(client, options.tableName);
  const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    endpoint,
    backendEndpoint: backend,
    client,
    documentClient,
    close: async () => {
      client.destroy();
      await proxy.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  if (!(await defineTable(client, tableName))) await addMissingIndexes(client, tableName);
  // dynalite turns a new table ACTIVE on the next tick; the waiter's default 20 s back-off would otherwise stall start-up
  // whenever its first look comes a moment too early.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  try {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true } }),
    );
  } catch {
    // dynalite does not implement TTL; expired items are ignored by readers instead.
  }
}

/** Creates the table from the schema; false when it exists already (a persisted data dir). */
async function defineTable(client: DynamoDBClient, tableName: string): Promise<boolean> {
  const s = TABLE_SCHEMA;
  const attributes = new Set<string>([s.partitionKey, s.sortKey, ...s.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: s.partitionKey, KeyType: 'HASH' },
          { AttributeName: s.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: s.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: i.projection, ...('nonKeyAttributes' in i ? { NonKeyAttributes: [...i.nonKeyAttributes] } : {}) },
        })),
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error; // persisted data dir: the table is already there
    return false;
  }
}

/**
 * dynalite throws a LevelDB error (a full disk, an I/O fault) from inside its request callback, where nothing can catch
 * it and it would end the whole process. Each request runs in its own domain instead (node:domain, the one API that
 * catches an error thrown from a callback the request started), which answers that request 500 InternalServerError, as
 * DynamoDB answers an internal fault: the SDK and the handlers then report 503, and the process stays up.
 */
async function containStorageErrors(server: import('node:http').Server): Promise<void> {
  const { create: createDomain } = await import('node:domain');
  const handlers = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const domain = createDomain();
    domain.on('error', (error: Error) => {
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `Local storage failed: ${error.message}` });
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    domain.add(req);
    domain.add(res);
    domain.run(() => {
      for (const handler of handlers) handler(req, res);
    });
  });
}

/**
 * A table persisted by an older version lacks the indexes added since. DynamoDB adds an index to a live table (the stack
 * does); dynalite cannot, so the table is rebuilt with its items: read, dropped, created from the schema, written back.
 */
async function addMissingIndexes(client: DynamoDBClient, tableName: string): Promise<void> {
  const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  const present = new Set((table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  if (TABLE_SCHEMA.indexes.every((i) => present.has(i.name))) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  await waitUntilTableNotExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  if (!(await defineTable(client, tableName))) throw new Error(`Could not rebuild the local table ${tableName} with its new indexes.`);
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
  for (const item of items) await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}
