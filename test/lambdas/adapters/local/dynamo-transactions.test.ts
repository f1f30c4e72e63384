import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDynalite, type LocalDynamo } from '../../../../lambdas/adapters/local/dynalite.js';

const TABLE = 'gatehouse';
type Items = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** A client that sends once: the proxy's answer is what the test sees, not the SDK's retries of it. */
function clientOf(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint, region: 'local', maxAttempts: 1, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
}

async function table(db: DynamoDBDocumentClient): Promise<Record<string, unknown>[]> {
  const out = await db.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => String(a['pk']).localeCompare(String(b['pk'])));
}

/** Three items: overwrite `a`, create `b`, delete `c` (with a condition each can meet). */
const threeItems = (): Items => [
  { Put: { TableName: TABLE, Item: { pk: 'a', sk: 'x', v: 2 }, ConditionExpression: 'v = :one', ExpressionAttributeValues: { ':one': 1 } } },
  { Put: { TableName: TABLE, Item: { pk: 'b', sk: 'x', v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' } },
  { Delete: { TableName: TABLE, Key: { pk: 'c', sk: 'x' }, ConditionExpression: 'attribute_exists(pk)' } },
];
const seed = async (db: DynamoDBDocumentClient): Promise<void> => {
  await db.send(new PutCommand({ TableName: TABLE, Item: { pk: 'a', sk: 'x', v: 1 } }));
  await db.send(new PutCommand({ TableName: TABLE, Item: { pk: 'c', sk: 'x', v: 1 } }));
};
const SEEDED = [
  { pk: 'a', sk: 'x', v: 1 },
  { pk: 'c', sk: 'x', v: 1 },
];

describe('local transaction proxy', () => {
  let dir: string;
  let dynamo: LocalDynamo | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tx-'));
  });
  afterEach(async () => {
    await dynamo?.close();
    dynamo = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every item of a transaction, and a ConditionCheck writes nothing', async () => {
    dynamo = await startDynalite({ path: join(dir, 'dynamodb'), tableName: TABLE });
    const db = clientOf(dynamo.endpoint);
    await seed(db);

    await db.send(
      new TransactWriteCommand({
        TransactItems: [...threeItems(), { ConditionCheck: { TableName: TABLE, Key: { pk: 'd', sk: 'x' }, ConditionExpression: 'attribute_not_exists(pk)' } }],
      }),
    );

    expect(await table(db)).toEqual([
      { pk: 'a', sk: 'x', v: 2 },
      { pk: 'b', sk: 'x', v: 1 },
    ]);
    expect(existsSync(join(dir, 'dynamodb.transaction.json'))).toBe(false);
  });

  it('cancels the whole transaction with DynamoDB cancellation reasons when one condition fails, writing nothing', async () => {
    dynamo = await startDynalite({ path: join(dir, 'dynamodb'), tableName: TABLE });
    const db = clientOf(dynamo.endpoint);
    await seed(db);
    const items = threeItems();
    items[2] = { ConditionCheck: { TableName: TABLE, Key: { pk: 'c', sk: 'x' }, ConditionExpression: 'v = :two', ExpressionAttributeValues: { ':two': 2 } } };

    const error = (await db.send(new TransactWriteCommand({ TransactItems: items })).catch((e: unknown) => e)) as Error & { CancellationReasons?: unknown };

    expect(error).toMatchObject({ name: 'TransactionCanceledException' });
    expect(error.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
    ]);
    expect(await table(db)).toEqual(SEEDED);
    expect(existsSync(join(dir, 'dynamodb.transaction.json'))).toBe(false);
  });

  it('isolates a transaction: a read that arrives while its items are being applied sees all of it, never a part', async () => {
    const reads: Array<Promise<Record<string, unknown>[]>> = [];
    const client: { db?: DynamoDBDocumentClient } = {};
    // After each item, a read starts (not awaited: it must wait for the transaction to finish).
    dynamo = await startDynalite({ path: join(dir, 'dynamodb'), tableName: TABLE, afterTransactionItem: () => void reads.push(table(client.db!)) });
    const db = (client.db = clientOf(dynamo.endpoint));
    await seed(db);

    await db.send(new TransactWriteCommand({ TransactItems: threeItems() }));

    expect(reads).toHaveLength(3);
    for (const seen of await Promise.all(reads)) {
      expect(seen).toEqual([
        { pk: 'a', sk: 'x', v: 2 },
        { pk: 'b', sk: 'x', v: 1 },
      ]);
    }
  });

  it('refuses two operations on one item as DynamoDB does', async () => {
    dynamo = await startDynalite({ tableName: TABLE });
    const db = clientOf(dynamo.endpoint);
    const twice = { Put: { TableName: TABLE, Item: { pk: 'a', sk: 'x' } } };

    await expect(db.send(new TransactWriteCommand({ TransactItems: [twice, twice] }))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await table(db)).toEqual([]);
  });

  it('writes nothing and answers an error when the intent cannot be recorded', async () => {
    dynamo = await startDynalite({ path: join(dir, 'dynamodb'), tableName: TABLE });
    const db = clientOf(dynamo.endpoint);
    await seed(db);
    // A directory where the intent's temporary file goes: the intent cannot be written.
    mkdirSync(join(dir, 'dynamodb.transaction.json.tmp'));

    const error = await db.send(new TransactWriteCommand({ TransactItems: threeItems() })).catch((e: unknown) => e as Error);

    expect(error).toMatchObject({ name: 'InternalServerError', $metadata: { httpStatusCode: 500 } });
    expect(await table(db)).toEqual(SEEDED);
  });

  it.each([1, 2, 3])('restores every pre-image at the next start after a crash right after item %i', async (k) => {
    const path = join(dir, 'dynamodb');
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    // The process "dies" after item k: nothing after that point of the transaction ever runs.
    dynamo = await startDynalite({
      path,
      tableName: TABLE,
      afterTransactionItem: (i) => (i === k ? (crashed(), new Promise<void>(() => undefined)) : undefined),
    });
    const db = clientOf(dynamo.endpoint);
    await seed(db);
    void db.send(new TransactWriteCommand({ TransactItems: threeItems() })).catch(() => undefined);
    await crash;
    // Read past the proxy, whose reads wait for the (never finishing) transaction.
    const halfWay = await table(clientOf(dynamo.backendEndpoint));
    await dynamo.close();
    dynamo = undefined;

    expect(halfWay).not.toEqual(SEEDED);
    expect(existsSync(`${path}.transaction.json`)).toBe(true);
    dynamo = await startDynalite({ path, tableName: TABLE });
    const after = clientOf(dynamo.endpoint);
    expect(await table(after)).toEqual(SEEDED);
    expect(existsSync(`${path}.transaction.json`)).toBe(false);
    // The table takes transactions again afterwards.
    await after.send(new TransactWriteCommand({ TransactItems: threeItems() }));
    expect((await after.send(new GetCommand({ TableName: TABLE, Key: { pk: 'b', sk: 'x' } }))).Item).toEqual({ pk: 'b', sk: 'x', v: 1 });
  });
});
