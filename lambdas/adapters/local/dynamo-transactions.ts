import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * dynalite implements neither TransactWriteItems nor ConditionCheck. Local mode puts this small proxy in front of it:
 * every write is serialised through one lock, and a transaction runs its items one by one with their conditions,
 * restoring the earlier images if any item fails, then answers exactly as DynamoDB does (TransactionCanceledException
 * with CancellationReasons). Reads pass straight through. Local mode only: AWS has real transactions.
 */

type AttributeMap = Record<string, unknown>;
interface Call {
  readonly target: string;
  readonly body: Record<string, unknown>;
}
interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);
const PREFIX = 'DynamoDB_20120810.';

export interface TransactionProxy {
  readonly endpoint: string;
  readonly server: Server;
  close(): Promise<void>;
}

/** Starts the proxy on a loopback port in front of the dynalite endpoint; `keyOf` names the table's key attributes. */
export async function startTransactionProxy(backend: string, keyAttributes: readonly string[]): Promise<TransactionProxy> {
  let lock: Promise<unknown> = Promise.resolve();
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const target = String(req.headers['x-amz-target'] ?? '');
        const action = target.startsWith(PREFIX) ? target.slice(PREFIX.length) : '';
        const headers = forwardable(req.headers);
        let reply: { status: number; text: string };
        if (action === 'TransactWriteItems') {
          const out = await serialised(() => transact(backend, headers, JSON.parse(raw) as { TransactItems: Record<string, Record<string, unknown>>[] }, keyAttributes));
          reply = { status: out.status, text: JSON.stringify(out.body) };
        } else if (WRITES.has(action)) {
          reply = await serialised(() => forward(backend, headers, raw));
        } else {
          reply = await forward(backend, headers, raw);
        }
        res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(reply.text) });
        res.end(reply.text);
      })().catch((error: unknown) => {
        const text = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) });
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['authorization', 'x-amz-date', 'content-type', 'x-amz-target', 'x-amz-security-token']) {
    const v = headers[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

async function forward(backend: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(backend, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

async function call(backend: string, headers: Record<string, string>, c: Call): Promise<Reply> {
  const res = await fetch(backend, { method: 'POST', headers: { ...headers, 'x-amz-target': `${PREFIX}${c.target}` }, body: JSON.stringify(c.body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const errorType = (r: Reply): string => String(r.body['__type'] ?? '').split('#').pop() ?? '';

async function transact(
  backend: string,
  headers: Record<string, string>,
  input: { TransactItems: Record<string, Record<string, unknown>>[] },
  keyAttributes: readonly string[],
): Promise<Reply> {
  const items = input.TransactItems ?? [];
  if (items.length === 0 || items.length > 100) return validation('TransactItems must hold 1 to 100 items');
  const plans = items.map((item) => {
    const [kind, op] = Object.entries(item)[0] as [string, Record<string, unknown>];
    const source = (kind === 'Put' ? op['Item'] : op['Key']) as AttributeMap;
    const key = Object.fromEntries(keyAttributes.map((k) => [k, source[k]]));
    return { kind, op, table: String(op['TableName']), key };
  });
  const ids = plans.map((p) => `${p.table}|${JSON.stringify(p.key)}`);
  if (new Set(ids).size !== ids.length) return validation('Transaction request cannot include multiple operations on one item');

  const undo: Array<{ table: string; key: AttributeMap; old: AttributeMap | undefined }> = [];
  const reasons: Array<{ Code: string; Message?: string }> = plans.map(() => ({ Code: 'None' }));
  for (const [i, p] of plans.entries()) {
    const before = await call(backend, headers, { target: 'GetItem', body: { TableName: p.table, Key: p.key, ConsistentRead: true } });
    if (before.status !== 200) return rollback(backend, headers, undo, before);
    const common = pick(p.op, ['TableName', 'ConditionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues']);
    const c: Call =
      p.kind === 'Put'
        ? { target: 'PutItem', body: { ...common, Item: p.op['Item'] } }
        : p.kind === 'Update'
          ? { target: 'UpdateItem', body: { ...common, Key: p.key, UpdateExpression: p.op['UpdateExpression'] } }
          : p.kind === 'Delete'
            ? { target: 'DeleteItem', body: { ...common, Key: p.key } }
            : {
                // ConditionCheck: a no-op update that only evaluates the condition (undone below like any other item).
                target: 'UpdateItem',
                body: {
                  ...common,
                  Key: p.key,
                  UpdateExpression: 'REMOVE #gatehouseConditionCheck',
                  ExpressionAttributeNames: { ...(common['ExpressionAttributeNames'] as object | undefined), '#gatehouseConditionCheck': 'gatehouseConditionCheck' },
                },
              };
    undo.push({ table: p.table, key: p.key, old: before.body['Item'] as AttributeMap | undefined });
    const out = await call(backend, headers, c);
    if (out.status === 200) continue;
    if (errorType(out) === 'ConditionalCheckFailedException') {
      reasons[i] = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
      await rollback(backend, headers, undo, out);
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
          CancellationReasons: reasons,
        },
      };
    }
    return rollback(backend, headers, undo, out);
  }
  return { status: 200, body: {} };
}

async function rollback(backend: string, headers: Record<string, string>, undo: Array<{ table: string; key: AttributeMap; old: AttributeMap | undefined }>, reply: Reply): Promise<Reply> {
  for (const u of undo.reverse()) {
    await call(
      backend,
      headers,
      u.old ? { target: 'PutItem', body: { TableName: u.table, Item: u.old } } : { target: 'DeleteItem', body: { TableName: u.table, Key: u.key } },
    );
  }
  return reply;
}

function validation(message: string): Reply {
  return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message } };
}

function pick(o: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => o[n] !== undefined).map((n) => [n, o[n]]));
}
