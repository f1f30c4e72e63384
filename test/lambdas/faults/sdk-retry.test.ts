import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as realSleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dynamoStores } from '../../../lambdas/adapters/aws/dynamo-registry.js';
import { REQUEST_PATH_CLIENT_CONFIG } from '../../../lambdas/adapters/aws/request-path.js';
import { SecretsVault } from '../../../lambdas/adapters/aws/secrets-vault.js';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import type { Services } from '../../../lambdas/core/services.js';
import { generateSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { FUNCTIONS } from '../../../lambdas/contracts/functions.js';
import { AWS_TEST_CLIENT_CONFIG, CLIENT_ID, CLIENT_SECRET, consumerFixture, NOW, publicRegistration } from '../fixtures.js';
import { buildServices, httpEvent, lambdaContext, TABLE } from '../handlers/fixtures.js';
import { expectUnavailable, faultPlane, type FaultPlane } from './fault-plane.js';

/**
 * The SDK's retries, which aws-sdk-client-mock cannot show (it replaces `send`, and the retry middleware with it): here the
 * real clients, with the settings lambdas/adapters/aws/services.ts gives them, talk to a scripted HTTP handler (or, for
 * timeouts, a local TCP endpoint that never answers). Time is fake: `setTimeout` (the SDK's backoff and request timeouts)
 * is advanced by the test, and Math.random (the backoff jitter) is pinned.
 */

type Reply = { readonly status: number; readonly body: unknown };
const throttled = (type = 'ProvisionedThroughputExceededException'): Reply => ({
  status: 400,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'The level of configured provisioned throughput for the table was exceeded.' },
});

/** DynamoDB's wire format of an item (AttributeValue), enough for a consumer record. */
function attribute(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value === null) return { NULL: true };
  if (Array.isArray(value)) return { L: value.map(attribute) };
  if (value instanceof Set) return { SS: [...(value as Set<string>)] };
  return {
    M: Object.fromEntries(
      Object.entries(value as object)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, attribute(v)]),
    ),
  };
}

/**
 * An HTTP handler in place of the SDK's NodeHttpHandler: answers each awsJson operation (X-Amz-Target) from a script,
 * after which it falls back to `otherwise`, and records every request it was sent.
 */
class ScriptedEndpoint {
  readonly requests: Array<{ readonly operation: string; readonly body: Record<string, unknown> }> = [];
  readonly #script = new Map<string, Reply[]>();
  readonly #otherwise: (operation: string, body: Record<string, unknown>) => Reply;

  constructor(otherwise: (operation: string, body: Record<string, unknown>) => Reply) {
    this.#otherwise = otherwise;
  }

  /** The next calls of `operation` get these replies, in order. */
  script(operation: string, ...replies: Reply[]): void {
    this.#script.set(operation, [...(this.#script.get(operation) ?? []), ...replies]);
  }

  count(operation: string): number {
    return this.requests.filter((r) => r.operation === operation).length;
  }

  async handle(request: {
    headers: Record<string, string>;
    body?: unknown;
  }): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }> {
    const target = Object.entries(request.headers).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1] ?? '';
    const operation = target.split('.').pop()!;
    const body = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body as Uint8Array)) as Record<string, unknown>;
    this.requests.push({ operation, body });
    const reply = this.#script.get(operation)?.shift() ?? this.#otherwise(operation, body);
    return {
      response: {
        statusCode: reply.status,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${this.requests.length}` },
        body: new TextEncoder().encode(JSON.stringify(reply.body)),
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {}
}

const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
/**
 * The consumer as stored, its scope already recorded as used; used within the hour too, so a token needs no bookkeeping
 * write, unless `recentlyUsed` is false (then one: recordUse).
 */
const consumerItem = (recentlyUsed = true) => ({
  pk: `CONSUMER#${CLIENT_ID}`,
  sk: 'CONSUMER',
  kind: 'consumer',
  ...consumerFixture(recentlyUsed ? { lastUsedAt: NOW.toISOString() } : {}),
  usedScopeSet: new Set(['reference-data:read']),
});

/** The token endpoint over a DynamoRegistry whose client has the Lambda's settings, and whatever `vault` is given. */
function tokenEndpoint(
  endpoint: ScriptedEndpoint | string,
  vault: Services['vault'] = new FileVault(),
  context: Context = lambdaContext,
): () => Promise<APIGatewayProxyResult> {
  const clientConfig = {
    ...AWS_TEST_CLIENT_CONFIG,
    ...REQUEST_PATH_CLIENT_CONFIG,
    ...(typeof endpoint === 'string' ? { endpoint, requestHandler: { ...REQUEST_PATH_CLIENT_CONFIG.requestHandler } } : { requestHandler: endpoint }),
  };
  const services = { ...buildServices({ jwks: { keys: [] } }), ...dynamoStores({ tableName: TABLE, clientConfig }), vault };
  const handler = createTokenHandler(services);
  return () =>
    handler(
      httpEvent({
        method: 'POST',
        resource: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        body: 'grant_type=client_credentials',
      }),
      context,
    );
}

/**
 * Lets the request run (real event-loop turns: signing and sockets are real I/O) without moving fake time, until
 * `condition` holds; fails if it never does.
 */
async function runUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 500 && !condition(); turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(0);
  }
  expect(condition()).toBe(true);
}

/**
 * Runs the request to its end: real event-loop turns while it works (signing is real I/O), and fake time moved to the next
 * timer only when it waits on one (the SDK's backoff). Returns the fake milliseconds it waited.
 */
async function drive(done: () => boolean, limitMs = 10_000): Promise<number> {
  const start = Date.now();
  for (let turn = 0; !done() && Date.now() - start <= limitMs && turn < 5_000; turn++) {
    if (vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
    else await new Promise((resolve) => setImmediate(resolve));
  }
  expect(done()).toBe(true);
  return Date.now() - start;
}

/** Advances fake time in 10 ms steps, with real event-loop turns in between (sockets connect), until `done` or `limitMs`. */
async function runFor(limitMs: number, done: () => boolean): Promise<number> {
  let elapsed = 0;
  while (!done() && elapsed < limitMs) {
    await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(10);
    elapsed += 10;
  }
  return elapsed;
}

/** Starts a request; `result()` is its response once it has one. */
function start(request: () => Promise<APIGatewayProxyResult>): { result: () => APIGatewayProxyResult | undefined } {
  let response: APIGatewayProxyResult | undefined;
  void request().then((r) => (response = r));
  return { result: () => response };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  // The top of the jitter range: every backoff is the longest the SDK may wait.
  vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('SDK retries on the token path (DynamoDB client as services.ts configures it)', () => {
  const table = (recentlyUsed = true) =>
    new ScriptedEndpoint((operation) =>
      operation === 'GetItem' ? { status: 200, body: { Item: attribute(consumerItem(recentlyUsed))['M'] } } : { status: 200, body: {} },
    );

  it('retries a throttled read after a backoff, and the token is issued', async () => {
    const endpoint = table();
    endpoint.script('GetItem', throttled());
    const request = start(tokenEndpoint(endpoint));

    await runUntil(() => endpoint.count('GetItem') === 1);
    // Throttling backs off from 1 s (full jitter, pinned at its top): nothing is sent again before.
    await vi.advanceTimersByTimeAsync(990);
    await runUntil(() => vi.getTimerCount() > 0);
    expect(endpoint.count('GetItem')).toBe(1);
    await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(200);
    expect(endpoint.count('GetItem')).toBe(2);
  });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])(
    'gives up after 3 attempts and 1 + 2 s of backoff on lasting throttling (%s), answering 503',
    async (type) => {
      const endpoint = table();
      endpoint.script('GetItem', throttled(type), throttled(type), throttled(type), throttled(type));
      const request = start(tokenEndpoint(endpoint));

      const waited = await drive(() => request.result() !== undefined);

      expectUnavailable(request.result()!, 'oauth', '5');
      expect(endpoint.count('GetItem')).toBe(REQUEST_PATH_CLIENT_CONFIG.maxAttempts);
      // floor(0.999999 × 1000) + floor(0.999999 × 2000)
      expect(waited).toBe(999 + 1_999);
    },
  );

  it('retries an internal server error (HTTP 500) after a short backoff, not the 1 s of throttling', async () => {
    const endpoint = table();
    endpoint.script('GetItem', { status: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' } });
    const request = start(tokenEndpoint(endpoint));

    const waited = await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(200);
    expect(endpoint.count('GetItem')).toBe(2);
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(50);
  });

  it('does not retry a request DynamoDB refuses as invalid, and answers 500: retrying would fail the same', async () => {
    const endpoint = table();
    endpoint.script('GetItem', {
      status: 400,
      body: { __type: 'com.amazon.coral.validate#ValidationException', message: 'One or more parameter values were invalid' },
    });
    const request = start(tokenEndpoint(endpoint));

    const waited = await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(500);
    expect(request.result()?.headers?.['retry-after']).toBeUndefined();
    expect(waited).toBe(0);
    expect(endpoint.count('GetItem')).toBe(1);
  });

  it('abandons its calls once middy has answered 503 before the function times out: no retry after, nothing left running', async () => {
    const endpoint = table();
    endpoint.script('GetItem', throttled(), throttled(), throttled(), throttled());
    // middy times out early on a timer of node:timers, which the fake clock does not move: give it 100 real ms.
    const request = start(tokenEndpoint(endpoint, new FileVault(), { ...lambdaContext, getRemainingTimeInMillis: () => 100 }));
    await runUntil(() => endpoint.count('GetItem') === 1);
    expect(vi.getTimerCount()).toBeGreaterThan(0); // the SDK's backoff before its second attempt (fake time, not moved)

    await realSleep(150);
    await runUntil(() => request.result() !== undefined);
    expectUnavailable(request.result()!, 'oauth', '5');

    // The backoff ends, as it would when Lambda thaws the instance for its next request: the abandoned request sends nothing.
    await runFor(5_000, () => false);
    expect(endpoint.count('GetItem')).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries a throttled write that is safe to repeat (recordUse, a conditional UpdateItem)', async () => {
    const endpoint = table(false);
    endpoint.script('UpdateItem', throttled());
    const request = start(tokenEndpoint(endpoint));

    await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(200);
    expect(endpoint.requests.filter((r) => r.operation === 'UpdateItem').map((r) => r.body['UpdateExpression'])).toEqual([
      'SET lastUsedAt = :now',
      'SET lastUsedAt = :now',
    ]);
  });
});

describe('SDK retries of a registration (its transaction is idempotent)', () => {
  const register = (endpoint: ScriptedEndpoint, plane: FaultPlane) => {
    const services = {
      ...plane.services,
      ...dynamoStores({ tableName: TABLE, clientConfig: { ...AWS_TEST_CLIENT_CONFIG, ...REQUEST_PATH_CLIENT_CONFIG, requestHandler: endpoint } }),
    };
    return () =>
      createRegisterHandler(services)(
        httpEvent({ method: 'POST', resource: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(publicRegistration()) }),
        lambdaContext,
      );
  };

  it('resends TransactWriteItems after a server error with the same ClientRequestToken, so DynamoDB applies it once', async () => {
    const plane = await faultPlane();
    const endpoint = new ScriptedEndpoint(() => ({ status: 200, body: {} }));
    endpoint.script('TransactWriteItems', {
      status: 500,
      body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' },
    });
    const request = start(register(endpoint, plane));

    await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(201);
    const tokens = endpoint.requests.filter((r) => r.operation === 'TransactWriteItems').map((r) => r.body['ClientRequestToken']);
    expect(tokens).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), tokens[0]]);
    expect(plane.clientSecrets.secrets.size).toBe(1);
  });

  it('does not retry a transaction DynamoDB cancelled for throttling: the caller gets 503 at once and nothing is kept', async () => {
    const plane = await faultPlane();
    const endpoint = new ScriptedEndpoint(() => ({ status: 200, body: {} }));
    endpoint.script('TransactWriteItems', {
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [ThrottlingError, None, None, None, None]',
        CancellationReasons: [
          { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity of your table or index.' },
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'None' },
        ],
      },
    });
    const request = start(register(endpoint, plane));

    const waited = await drive(() => request.result() !== undefined);

    expectUnavailable(request.result()!, 'problem', '5');
    expect(endpoint.count('TransactWriteItems')).toBe(1);
    expect(waited).toBe(0);
    expect(plane.clientSecrets.secrets.size).toBe(0);
  });
});

describe('SDK retries of the signing-key read (Secrets Manager client as services.ts configures it)', () => {
  it('retries a throttled GetSecretValue and signs', async () => {
    const key = JSON.stringify(await generateSigningKey());
    const secrets = new ScriptedEndpoint((_operation, body) =>
      body['VersionStage'] === 'AWSCURRENT'
        ? { status: 200, body: { SecretString: key, VersionId: 'v1', VersionStages: ['AWSCURRENT'] } }
        : { status: 400, body: { __type: 'ResourceNotFoundException', message: 'no such stage' } },
    );
    secrets.script('GetSecretValue', { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    const vault = new SecretsVault({
      secretId: 'gatehouse/signing-key',
      clientConfig: { ...AWS_TEST_CLIENT_CONFIG, ...REQUEST_PATH_CLIENT_CONFIG, requestHandler: secrets },
    });
    const table = new ScriptedEndpoint((operation) =>
      operation === 'GetItem' ? { status: 200, body: { Item: attribute(consumerItem())['M'] } } : { status: 200, body: {} },
    );
    const request = start(tokenEndpoint(table, vault));

    const waited = await drive(() => request.result() !== undefined);

    expect(request.result()?.statusCode).toBe(200);
    expect(waited).toBe(999);
    // AWSCURRENT, AWSPENDING and AWSPREVIOUS are read together; the throttled one was sent again.
    expect(secrets.count('GetSecretValue')).toBe(4);
  });
});

describe('request timeouts (a DynamoDB endpoint that accepts connections and never answers)', () => {
  let server: Server;
  let connections: number;
  const sockets = new Set<Socket>();

  beforeEach(async () => {
    connections = 0;
    server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('ends each attempt at the request timeout and answers 503 after 3 attempts, well inside the function timeout', async () => {
    const { port } = server.address() as AddressInfo;
    const request = start(tokenEndpoint(`http://127.0.0.1:${port}`));

    const elapsed = await runFor(10_000, () => request.result() !== undefined);

    expectUnavailable(request.result()!, 'oauth', '5');
    expect(connections).toBe(REQUEST_PATH_CLIENT_CONFIG.maxAttempts);
    // 3 attempts of requestTimeout each, and the short backoff of transient errors between them.
    expect(elapsed).toBeGreaterThanOrEqual(3 * REQUEST_PATH_CLIENT_CONFIG.requestHandler.requestTimeout);
    expect(elapsed).toBeLessThan(FUNCTIONS.token.timeoutSeconds * 1000);
  });
});

describe('REQUEST_PATH_CLIENT_CONFIG', () => {
  it('gives up on one call before the shortest timeout of a function that reads the table or the signing key', () => {
    const { maxAttempts, requestHandler } = REQUEST_PATH_CLIENT_CONFIG;
    // The SDK's standard strategy: full-jitter backoff from 1 s after throttling (the attempt itself returns at once) and
    // from at most 50 ms after a timeout (the attempt lasted requestTimeout), doubling on each retry.
    let worstMs = requestHandler.requestTimeout;
    for (let retry = 0; retry < maxAttempts - 1; retry++) worstMs += Math.max(1_000 * 2 ** retry, requestHandler.requestTimeout + 50 * 2 ** retry);
    const shortest = Math.min(
      ...Object.values(FUNCTIONS)
        .filter((spec) => spec.capabilities.some((c) => c.startsWith('table:') || c === 'signing-key:read'))
        .map((spec) => spec.timeoutSeconds * 1000),
    );

    expect(worstMs).toBe(4_050);
    expect(worstMs).toBeLessThan(shortest);
  });
});
