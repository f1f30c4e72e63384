import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { matchPath, ROUTES, type HttpHandlerName } from '../../../lib/routes.js';
import type { HttpLambda } from '../../handlers/http/http-handler.js';
import { problem } from '../../handlers/http/respond.js';

/** Like API Gateway's own cap, but far lower: the handlers refuse much less already. */
const MAX_READ_BYTES = 1024 * 1024;

export interface LocalHttpServer {
  readonly server: Server;
  readonly url: string;
  /** Plugs in the handlers once the URL (the issuer) is known. */
  setHandlers(handlers: Readonly<Record<HttpHandlerName, HttpLambda>>): void;
  close(): Promise<void>;
}

/** Serves the shared route table over HTTP on loopback, turning each request into the API Gateway proxy event Lambda gets. */
/** The identity local mode gives an operator who presented the admin token (IAM's principal ARN in AWS). */
export const LOCAL_ADMIN_ARN = 'arn:aws:iam::000000000000:user/gatehouse-local-admin';

export async function startHttpServer(options: {
  readonly port: number;
  readonly host?: string;
  /** Bearer token that stands in for IAM (SigV4) on `iam` routes. */
  readonly adminToken: string;
}): Promise<LocalHttpServer> {
  let handlers: Readonly<Record<HttpHandlerName, HttpLambda>> | undefined;
  const server = createServer((req, res) => {
    void dispatch(req, res, handlers, options.adminToken).catch(() => {
      if (!res.headersSent) send(res, problem(500, 'internal', 'Internal error', 'The local server failed to handle the request.'));
    });
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
      handlers = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function dispatch(req: IncomingMessage, res: ServerResponse, handlers: Readonly<Record<HttpHandlerName, HttpLambda>> | undefined, adminToken: string): Promise<void> {
  if (!handlers) return send(res, problem(503, 'starting', 'Starting', 'Gatehouse is still starting.', { 'retry-after': '1' }));
  const url = new URL(req.url ?? '/', 'http://localhost');
  const candidates = ROUTES.map((route) => ({ route, params: matchPath(route.path, url.pathname) })).filter((c) => c.params !== undefined);
  if (candidates.length === 0) {
    req.resume();
    return send(res, problem(404, 'not-found', 'Not found', `No route for ${url.pathname}.`));
  }
  const match = candidates.find((c) => c.route.method === req.method);
  if (!match) {
    req.resume();
    return send(res, problem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not allowed here.`, { allow: candidates.map((c) => c.route.method).join(', ') }));
  }
  // API Gateway refuses an unsigned call to an IAM route before any Lambda runs; locally the admin token plays SigV4.
  const admin = match.route.auth === 'iam';
  if (admin && !presentsToken(req.headers.authorization, adminToken)) {
    req.resume();
    return send(
      res,
      problem(401, 'unauthorized', 'Unauthorized', 'Admin routes need the local admin token (printed by npm start, stored in <data dir>/admin-token) as a Bearer token.', {
        'www-authenticate': 'Bearer realm="gatehouse-admin"',
      }),
    );
  }
  const body = await readBody(req);
  if (body === undefined) return send(res, problem(413, 'payload-too-large', 'Payload too large', `The request body exceeds ${MAX_READ_BYTES} bytes.`), true);

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const requestId = randomUUID();
  const event = {
    httpMethod: req.method ?? 'GET',
    path: url.pathname,
    resource: match.route.path,
    pathParameters: Object.keys(match.params!).length ? match.params! : null,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
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
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', ...(admin ? { userArn: LOCAL_ADMIN_ARN, caller: 'gatehouse-local-admin' } : {}) },
    },
  } as unknown as APIGatewayProxyEvent;
  const context = { awsRequestId: requestId, functionName: `gatehouse-${match.route.handler}`, getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  send(res, await handlers[match.route.handler](event, context));
}

function presentsToken(authorization: string | undefined, token: string): boolean {
  const presented = authorization && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return presented.length > 0 && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_READ_BYTES) tooBig = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: APIGatewayProxyResult, close = false): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  const headers: Record<string, string | number> = { ...(result.headers as Record<string, string>), 'content-length': body.length };
  if (close) headers['connection'] = 'close';
  res.writeHead(result.statusCode, headers);
  res.end(body);
}
