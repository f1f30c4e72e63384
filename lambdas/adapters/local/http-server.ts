import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ROUTES, type HttpHandlerName } from '../../contracts/routes.js';
import { bearerToken } from '../../handlers/http/event.js';
import { HttpError } from '../../handlers/http/errors.js';
import type { HttpLambda } from '../../handlers/http/http-handler.js';
import { HANDLER_PROTOCOLS } from '../../handlers/http/protocols.js';
import { problem } from '../../handlers/http/respond.js';
import { httpErrorResponse, type ResponseFormat } from '../../handlers/http/to-response.js';
import { requestTarget, routeMatcher } from './route-table.js';

/** Like API Gateway's own cap, but far lower: the handlers refuse much less already. */
export const MAX_READ_BYTES = 1024 * 1024;
/** Request line plus headers (Node's default, made explicit): an absurd URL or header is refused before routing. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** After an early answer the rest of an upload is read and dropped, up to this much; then the connection is cut. */
const MAX_DISCARD_BYTES = 8 * MAX_READ_BYTES;
/** The routes whose path matches a request's, in table order. */
const matchRoutes = routeMatcher(ROUTES);

export interface LocalHttpServer {
  readonly server: Server;
  readonly url: string;
  /** Plugs in the handlers once the URL (the issuer) is known. */
  setHandlers(handlers: Readonly<Record<HttpHandlerName, HttpLambda>>): void;
  /**
   * Stops taking requests (a request on an open connection is answered 503), lets the ones under way finish, and after
   * `graceMs` cuts whatever connection is still open.
   */
  close(graceMs?: number): Promise<void>;
}

/** Serves the shared route table over HTTP on loopback, turning each request into the API Gateway proxy event Lambda gets. */
/** The identity local mode gives an operator who presented the admin token (IAM's principal ARN in AWS). */
export const LOCAL_ADMIN_ARN = 'arn:aws:iam::000000000000:user/gatehouse-local-admin';

export async function startHttpServer(options: {
  readonly port: number;
  readonly host?: string;
  /** Bearer token that stands in for IAM (SigV4) on `iam` routes. */
  readonly adminToken: string;
  /** How long a request may run before it is answered 503 as a Lambda function's time-out would be. @default 10 s */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * How long a client may take to send a whole request (headers and body) before it is answered 408 and its connection
   * closed: a body that stops short of its Content-Length does not hold a connection for Node's default 5 minutes.
   * @default 30 s, about API Gateway's own limit on an integration
   */
  readonly readTimeoutMs?: number | undefined;
}): Promise<LocalHttpServer> {
  const state: ServerState = { handlers: undefined, closing: false, adminToken: options.adminToken, timeoutMs: options.requestTimeoutMs ?? 10_000 };
  const readTimeoutMs = options.readTimeoutMs ?? 30_000;
  // Node answers a missing Host and an unknown Expect itself, with an empty body; here they become problem JSON too.
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      requireHostHeader: false,
      requestTimeout: readTimeoutMs,
      headersTimeout: readTimeoutMs,
      // How often Node looks for requests past those limits (its default, 30 s, would double the wait).
      connectionsCheckingInterval: Math.min(1_000, readTimeoutMs),
    },
    (req, res) => {
      if (state.closing) {
        discard(req);
        return send(res, problem(503, 'stopping', 'Stopping', 'Gatehouse is stopping; retry shortly.', { 'retry-after': '1' }), state);
      }
      void dispatch(req, res, state).catch(() => {
        if (!res.headersSent) send(res, problem(500, 'internal', 'Internal error', 'The local server failed to handle the request.'), state);
      });
    },
  );
  server.on('clientError', refuseUnparsable);
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    discard(req);
    send(res, problem(417, 'expectation-failed', 'Expectation failed', 'Only "Expect: 100-continue" is supported.'), state);
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}`,
    setHandlers: (h) => {
      state.handlers = h;
    },
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        // From now on every answer, including those of requests under way, closes its connection once sent (see send),
        // so the server can close without cutting any of them.
        state.closing = true;
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/**
 * One server's settings and whether it is stopping. No per-response bookkeeping: a set of the responses under way, held
 * by this long-lived (old-generation) object, made the garbage collector keep every response alive through a young
 * collection (docs/performance.md, "Token latency").
 */
interface ServerState {
  handlers: Readonly<Record<HttpHandlerName, HttpLambda>> | undefined;
  closing: boolean;
  readonly adminToken: string;
  readonly timeoutMs: number;
}

async function dispatch(req: IncomingMessage, res: ServerResponse, state: ServerState): Promise<void> {
  const { handlers, adminToken, timeoutMs } = state;
  if (!handlers) {
    discard(req);
    return send(res, problem(503, 'starting', 'Starting', 'Gatehouse is still starting.', { 'retry-after': '1' }), state);
  }
  if (req.httpVersion === '1.1' && req.headers.host === undefined) {
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400.
    discard(req);
    return send(res, problem(400, 'malformed-request', 'Bad request', 'An HTTP/1.1 request needs a Host header.'), state);
  }
  const url = requestTarget(req.url ?? '/');
  if (!url) {
    discard(req);
    return send(res, problem(400, 'malformed-request', 'Bad request', 'The request target is neither a path nor an absolute URL.'), state);
  }
  const candidates = matchRoutes(url.pathname);
  if (candidates.length === 0) {
    discard(req);
    return send(res, httpErrorResponse(new HttpError('not_found', `No route for ${url.pathname}.`), familyFormat(url.pathname)), state);
  }
  const match = candidates.find((c) => c.route.method === req.method);
  if (!match) {
    discard(req);
    const allow = candidates.map((c) => c.route.method).join(', ');
    return send(
      res,
      httpErrorResponse(
        new HttpError('method_not_allowed', `${req.method} is not allowed here; use ${allow}.`),
        { protocol: HANDLER_PROTOCOLS[candidates[0]!.route.handler] },
        { allow },
      ),
      state,
    );
  }
  // API Gateway refuses an unsigned call to an IAM route before any Lambda runs; locally the admin token plays SigV4.
  const admin = match.route.auth === 'iam';
  if (admin && !presentsToken(req.headers.authorization, adminToken)) {
    discard(req);
    return send(
      res,
      problem(
        401,
        'unauthorized',
        'Unauthorized',
        'Admin routes need the local admin token (printed by npm start, stored in <data dir>/admin-token) as a Bearer token.',
        {
          'www-authenticate': 'Bearer realm="gatehouse-admin"',
        },
      ),
      state,
    );
  }
  // Refused as early as the size is known: from Content-Length before reading, or as soon as a chunked body passes the cap.
  const declared = Number(req.headers['content-length'] ?? 0);
  const body = declared > MAX_READ_BYTES ? undefined : await readBody(req);
  if (body === undefined) {
    // The connection stays open while the rest is dropped: closing it on unread data would reset it, and the client
    // could lose this answer.
    discard(req);
    return send(
      res,
      httpErrorResponse(new HttpError('payload_too_large', `The request body exceeds ${MAX_READ_BYTES} bytes, far more than any route accepts.`), {
        protocol: HANDLER_PROTOCOLS[match.route.handler],
      }),
      state,
    );
  }

  const { headers, multiValueHeaders } = headerMaps(req.rawHeaders);
  // Collected in a Map: a query parameter named `constructor` or `__proto__` is data, not a property lookup.
  const queryMap = new Map<string, string[]>();
  if (url.searchParams) for (const [k, v] of url.searchParams) append(queryMap, k, v);
  const requestId = randomUUID();
  const event = {
    httpMethod: req.method ?? 'GET',
    path: url.pathname,
    resource: match.route.path,
    pathParameters: Object.keys(match.params).length ? match.params : null,
    queryStringParameters: queryMap.size ? Object.fromEntries([...queryMap].map(([k, vs]) => [k, vs.at(-1)!])) : null,
    multiValueQueryStringParameters: queryMap.size ? Object.fromEntries(queryMap) : null,
    headers,
    multiValueHeaders,
    body: body.length ? body.toString('utf8') : null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId,
      stage: 'local',
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      resourcePath: match.route.path,
      identity: admin
        ? { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userArn: LOCAL_ADMIN_ARN, caller: 'gatehouse-local-admin' }
        : { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    },
  } as unknown as APIGatewayProxyEvent;
  const deadline = Date.now() + timeoutMs;
  const context = {
    awsRequestId: requestId,
    functionName: `gatehouse-${match.route.handler}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
  send(res, await handlers[match.route.handler](event, context), state);
}

/**
 * The format of a refusal for a path no route matches: that of the routes under the same first segment when they all
 * speak one protocol (`/register/` and `/register/a/b` are registration clients' mistakes), problem JSON otherwise.
 */
function familyFormat(pathname: string): ResponseFormat {
  const first = pathname.split('/')[1];
  const protocols = new Set(ROUTES.filter((r) => r.path.split('/')[1] === first).map((r) => HANDLER_PROTOCOLS[r.handler]));
  return protocols.size === 1 ? { protocol: [...protocols][0]! } : {};
}

/**
 * API Gateway's `headers` (repeated names joined with commas) and `multiValueHeaders`, from Node's raw header list. Built
 * as plain objects directly; a header named `__proto__` (which assignment would treat as the prototype) sends the list
 * through Maps and `Object.fromEntries`, which make every name an own property.
 */
export function headerMaps(raw: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name === '__proto__') return headerMapsOfAnyName(raw);
    const values = Object.hasOwn(multiValueHeaders, name) ? multiValueHeaders[name] : undefined;
    if (values) {
      values.push(value);
      headers[name] = `${headers[name]!},${value}`;
    } else {
      multiValueHeaders[name] = [value];
      headers[name] = value;
    }
  }
  return { headers, multiValueHeaders };
}

function headerMapsOfAnyName(raw: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const map = new Map<string, string[]>();
  for (let i = 0; i < raw.length; i += 2) append(map, raw[i]!, raw[i + 1]!);
  return { headers: Object.fromEntries([...map].map(([k, vs]) => [k, vs.join(',')])), multiValueHeaders: Object.fromEntries(map) };
}

function append(map: Map<string, string[]>, key: string, value: string): void {
  const values = map.get(key);
  if (values) values.push(value);
  else map.set(key, [value]);
}

function presentsToken(authorization: string | undefined, token: string): boolean {
  const presented = bearerToken(authorization) ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return presented.length > 0 && timingSafeEqual(a, b);
}

/** Reads the body up to the cap; undefined (at once, without waiting for the rest) when it is larger. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_READ_BYTES) return void chunks.push(chunk);
      stop();
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Drops the rest of a body that will not be read, and cuts off a client that keeps sending far past the cap. */
function discard(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > MAX_DISCARD_BYTES) req.socket.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

/**
 * Answers what Node's parser refuses before any handler runs (headers or URL over MAX_HEADER_BYTES, broken HTTP) with
 * problem JSON like every other refusal, then closes the connection.
 */
function refuseUnparsable(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, type, title, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'header-fields-too-large', 'Request header fields too large', `The request line and headers exceed ${MAX_HEADER_BYTES} bytes.`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request-timeout', 'Request timeout', 'The request did not arrive in time.']
        : [400, 'malformed-request', 'Bad request', 'The request is not valid HTTP/1.1.'];
  const result = problem(status, type, title, detail);
  const body = Buffer.from(result.body, 'utf8');
  const head = Object.entries({ ...(result.headers as Record<string, string>), 'content-length': String(body.length), connection: 'close' })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? title}\r\n${head}\r\n`, 'latin1'), body]));
}

function send(res: ServerResponse, result: APIGatewayProxyResult, state: ServerState): void {
  // A text body stays a string: Node then writes the head and the body as one string, in one write.
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  // Node's flat [name, value, …] form: the handler's headers and the length, without copying them into another object.
  const headers: Array<string | number | boolean> = [];
  for (const name in result.headers) {
    if (name !== 'content-length' && Object.hasOwn(result.headers, name)) headers.push(name, result.headers[name]!);
  }
  headers.push('content-length', typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length);
  if (state.closing) headers.push('connection', 'close');
  res.writeHead(result.statusCode, headers as string[]);
  res.end(body);
}
