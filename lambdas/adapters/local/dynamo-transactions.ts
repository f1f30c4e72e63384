import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';

/**
 * dynalite implements neither TransactWriteItems nor ConditionCheck. Local mode puts this small proxy in front of it:
 * every write is serialised through one lock, and a transaction runs its items one by one with their conditions,
 * restoring the earlier images if any item fails, then answers exactly as DynamoDB does (TransactionCanceledException
 * with CancellationReasons). Reads wait for the transactions queued before them, so none sees a transaction half-applied.
 * Local mode only: AWS has real transactions.
 *
 * Across a crash: with an intent file, the pre-images of every item a transaction touches are written there (atomically)
 * before its first write and removed after its last, so a process killed half-way leaves the file behind and the next
 * start restores those pre-images before anything is served. Rolling back is always right: a transaction whose intent
 * is still there was never acknowledged.
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

export interface TransactionProxyOptions {
  /** Where a transaction's pre-images are kept while it applies; without it (an in-memory table) nothing outlives the process anyway. */
  readonly intentFile?: string | undefined;
  /** Runs after the k-th item (1-based) of a transaction is written and before the next: where a crash can be injected. */
  readonly afterItem?: ((k: number) => void | Promise<void>) | undefined;
}

interface Intent {
  readonly items: ReadonlyArray<{ readonly table: string; readonly key: AttributeMap; readonly old: AttributeMap | undefined }>;
}

// dynalite checks that a request looks signed, not the signature; recovery runs before any SDK request exists to copy.
const RECOVERY_HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  authorization: 'AWS4-HMAC-SHA256 Credential=local/20000101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20000101T000000Z',
};

/**
 * Restores the pre-images of a transaction a crash interrupted, if its intent file is there, then removes the file.
 * Throws (leaving the file) when the table cannot take the writes.
 */
export async function recoverTransaction(backend: string, intentFile: string): Promise<boolean> {
  let text: string;
  try {
    text = readFileSync(intentFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const intent = JSON.parse(text) as Intent;
  await restore(backend, RECOVERY_HEADERS, intent.items);
  rmSync(intentFile, { force: true });
  return true;
}

/** Starts the proxy on a loopback port in front of the dynalite endpoint; `keyAttributes` names the table's key attributes. */
export async function startTransactionProxy(
  backend: string,
  keyAttributes: readonly string[],
  options: TransactionProxyOptions = {},
): Promise<TransactionProxy> {
  let lock: Promise<unknown> = Promise.resolve();
  /** Settles once every transaction queued so far has been applied or rolled back. */
  let transactions: Promise<unknown> = Promise.resolve();
  // Set when a transaction could not be rolled back in place (a storage fault): no write goes ahead until it is.
  let unrecovered = false;
  const intentFile = options.intentFile;
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const guarded = async (): Promise<T> => {
      if (unrecovered && intentFile) {
        await recoverTransaction(backend, intentFile);
        unrecovered = false;
      }
      return fn();
    };
    const run = lock.then(guarded, guarded);
    lock = run.catch(() => undefined);
    return run;
  };
  const journal: Journal = {
    write: (intent) => intentFile && writeAtomically(intentFile, JSON.stringify(intent)),
    clear: () => intentFile && rmSync(intentFile, { force: true }),
    stuck: () => {
      unrecovered = true;
    },
    afterItem: options.afterItem,
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
          const applied = serialised(() =>
            transact(backend, headers, JSON.parse(raw) as { TransactItems: Record<string, Record<string, unknown>>[] }, keyAttributes, journal),
          );
          transactions = applied.catch(() => undefined);
          const out = await applied;
          reply = { status: out.status, text: JSON.stringify(out.body) };
        } else if (WRITES.has(action)) {
          reply = await serialised(() => forward(backend, headers, raw));
        } else {
          // Isolation: a read waits for the transactions already queued, so it never sees one half-applied (DynamoDB
          // serialises reads against transactions the same way). Reads do not wait for plain writes, which are atomic.
          await transactions;
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

/**
 * How long the proxy waits for dynalite. A storage fault can leave a LevelDB write unanswered; without a bound that
 * write would hold the lock, and every read queued behind its transaction, for good.
 */
const BACKEND_TIMEOUT_MS = 5000;

async function forward(backend: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(backend, { method: 'POST', headers, body, signal: AbortSignal.timeout(BACKEND_TIMEOUT_MS) });
  return { status: res.status, text: await res.text() };
}

async function call(backend: string, headers: Record<string, string>, c: Call): Promise<Reply> {
  const res = await fetch(backend, {
    method: 'POST',
    headers: { ...headers, 'x-amz-target': `${PREFIX}${c.target}` },
    body: JSON.stringify(c.body),
    signal: AbortSignal.timeout(BACKEND_TIMEOUT_MS),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const errorType = (r: Reply): string =>
  String(r.body['__type'] ?? '')
    .split('#')
    .pop() ?? '';

interface Journal {
  write(intent: Intent): void;
  clear(): void;
  /** The table may hold a half-applied transaction that only the intent file can undo. */
  stuck(): void;
  readonly afterItem: ((k: number) => void | Promise<void>) | undefined;
}

async function transact(
  backend: string,
  headers: Record<string, string>,
  input: { TransactItems: Record<string, Record<string, unknown>>[] },
  keyAttributes: readonly string[],
  journal: Journal,
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

  // Every pre-image is read before the first write (writes are serialised, so none changes meanwhile): the intent holds them all.
  const images: Image[] = [];
  for (const p of plans) {
    const before = await call(backend, headers, { target: 'GetItem', body: { TableName: p.table, Key: p.key, ConsistentRead: true } });
    if (before.status !== 200) return before;
    images.push({ table: p.table, key: p.key, old: before.body['Item'] as AttributeMap | undefined });
  }
  journal.write({ items: images });
  const rollBack = async (touched: readonly Image[]): Promise<void> => {
    try {
      await restore(backend, headers, touched);
      journal.clear();
    } catch (error) {
      journal.stuck();
      throw error;
    }
  };

  const reasons: Array<{ Code: string; Message?: string }> = plans.map(() => ({ Code: 'None' }));
  const created: Image[] = [];
  try {
    for (const [i, p] of plans.entries()) {
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
                    ExpressionAttributeNames: {
                      ...(common['ExpressionAttributeNames'] as object | undefined),
                      '#gatehouseConditionCheck': 'gatehouseConditionCheck',
                    },
                  },
                };
      const out = await call(backend, headers, c);
      if (out.status !== 200) {
        await rollBack(images.slice(0, i + 1));
        if (errorType(out) !== 'ConditionalCheckFailedException') return out;
        reasons[i] = { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' };
        return {
          status: 400,
          body: {
            __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
            message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
            CancellationReasons: reasons,
          },
        };
      }
      // The no-op update of a ConditionCheck on a missing item creates it with only its key; DynamoDB writes nothing.
      if (p.kind === 'ConditionCheck' && images[i]!.old === undefined) created.push(images[i]!);
      await journal.afterItem?.(i + 1);
    }
    await restore(backend, headers, created);
  } catch (error) {
    await rollBack(images);
    throw error;
  }
  try {
    journal.clear();
  } catch (error) {
    // An intent left behind would undo this transaction at the next start, so it is undone now and not acknowledged.
    await rollBack(images);
    throw error;
  }
  return { status: 200, body: {} };
}

type Image = Intent['items'][number];

/** Puts back each pre-image (deleting what did not exist), last item first; throws unless every write succeeds. */
async function restore(backend: string, headers: Record<string, string>, images: readonly Image[]): Promise<void> {
  for (const u of [...images].reverse()) {
    const out = await call(
      backend,
      headers,
      u.old ? { target: 'PutItem', body: { TableName: u.table, Item: u.old } } : { target: 'DeleteItem', body: { TableName: u.table, Key: u.key } },
    );
    if (out.status !== 200) throw new Error(`restoring a pre-image failed: ${errorType(out)} ${String(out.body['message'] ?? '')}`);
  }
}

/** Replaces `file` with `text` so that a crash leaves either the old file or the whole new one. */
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function validation(message: string): Reply {
  return { status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message } };
}

function pick(o: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => o[n] !== undefined).map((n) => [n, o[n]]));
}
