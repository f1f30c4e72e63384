import fc from 'fast-check';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, MAX_READ_BYTES } from '../../../lambdas/adapters/local/http-server.js';
import { ROUTES, type Route } from '../../../lambdas/contracts/routes.js';
import { tableSnapshot } from '../local-mode.js';
import { startFixture, stopFixture, type Fixture } from './fixture.js';
import { b64, deepJson } from './generators.js';
import { send, type WireRequest } from './http-client.js';
import { expectProtocolAnswer, fuzzParams, isEdgeRefusal, isProblem, PROTOCOL } from './oracle.js';
import { modelFor, routeKey } from './route-models.js';

/**
 * Local mode's size limits and HTTP edge cases, for every route of lambdas/contracts/routes.ts: the handlers' body limit (64 KiB) just
 * under and just over, the server's own cap (1 MiB) with and without Content-Length, refused before the body arrives,
 * absurd URLs and headers, odd methods and request targets, unparsable HTTP; then the fuzzers' findings, pinned.
 * Runs: SIZE_RUNS per POST route, plus four fixed boundary examples each.
 */
const SIZE_RUNS = 8;

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await stopFixture(fx);
});

const ALL = ROUTES.map((r) => [routeKey(r), r] as const);
const POSTS = ROUTES.filter((r) => r.method === 'POST').map((r) => [routeKey(r), r] as const);

const concrete = (route: Route) => route.path.replace(/\{\w+\}/g, 'gh_fuzz_nobody');
const auth = (route: Route): Record<string, string> => (route.auth === 'iam' ? { authorization: `Bearer ${fx.plane.adminToken}` } : {});
const isForm = (route: Route) => PROTOCOL[route.handler] === 'oauth' || PROTOCOL[route.handler] === 'html';
const mediaType = (route: Route) => (isForm(route) ? 'application/x-www-form-urlencoded' : 'application/json');

/** A body in the route's media type of exactly `bytes` bytes, its filler made of `unit` (1 to 4 bytes in UTF-8). */
function exactBody(route: Route, bytes: number, unit: string): Buffer {
  const [prefix, suffix] = isForm(route) ? ['x_fuzz=', ''] : ['{"x_fuzz":"', '"}'];
  const room = bytes - prefix.length - suffix.length;
  const count = Math.floor(room / Buffer.byteLength(unit));
  const body = Buffer.from(`${prefix}${unit.repeat(count)}${'a'.repeat(room - count * Buffer.byteLength(unit))}${suffix}`, 'utf8');
  expect(body.length).toBe(bytes);
  return body;
}

async function expectUnchanged(what: string): Promise<void> {
  expect(await tableSnapshot(fx.plane), `${what} changed the table`).toEqual(fx.baseline);
}

/** Sends raw bytes and reads until the server closes; returns status, lower-cased headers and body. */
function rawExchange(text: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(fx.plane.url).port), '127.0.0.1', () => socket.write(text, 'latin1'));
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** Starts an upload and resolves with the answer while the upload is still unfinished (`write` sends what it likes). */
function answerBeforeUploadEnds(
  path: string,
  headers: Record<string, string>,
  write: (req: ReturnType<typeof httpRequest>) => void,
): Promise<{ status: number; text: string }> {
  const base = new URL(fx.plane.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method: 'POST', path, headers, agent: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    req.on('error', (error) => reject(error));
    write(req);
  });
}

describe('local mode size limits', () => {
  it.each(POSTS)('%s refuses a body over the handlers’ limit with 413 in its format, and reads one at the limit', async (_key, route) => {
    const limit = fx.plane.services.config.maxBodyBytes;
    const model = modelFor(route);
    const examples: [number, string][] = [
      [limit, 'a'],
      [limit + 1, 'a'],
      [limit, '😀'],
      [limit + 1, 'é'],
    ];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: limit - 48, max: limit + 48 }), fc.constantFrom<string>('a', 'é', '€', '😀'), async (bytes, unit) => {
        const wire: WireRequest = {
          method: 'POST',
          path: concrete(route),
          headers: { 'content-type': mediaType(route), ...auth(route) },
          body: exactBody(route, bytes, unit),
        };
        const res = await send(fx.plane.url, wire);
        const what = `${bytes} bytes of ${unit} → ${res.status} ${res.text.slice(0, 200)}`;
        if (bytes > limit) {
          expect(res.status, what).toBe(413);
          expect(isEdgeRefusal(route, res), what).toBe(true);
        } else {
          expect(res.status, what).not.toBe(413);
          expectProtocolAnswer(route, wire, res, { mayAccept: model.mayAccept, secrets: fx.secrets });
        }
        await expectUnchanged(what);
      }),
      { ...fuzzParams<[number, string]>(SIZE_RUNS), examples },
    );
  });

  it.each(ALL)('%s refuses a body over the server’s cap with 413 in its format, with Content-Length or chunked', async (_key, route) => {
    for (const chunkBytes of [undefined, 64 * 1024]) {
      const res = await send(fx.plane.url, {
        method: route.method,
        path: concrete(route),
        headers: { 'content-type': mediaType(route), ...auth(route) },
        body: Buffer.alloc(MAX_READ_BYTES + 1, 0x61),
        chunkBytes,
      });
      expect(res.status, res.text).toBe(413);
      expect(isEdgeRefusal(route, res), res.text).toBe(true);
    }
    await expectUnchanged(routeKey(route));
  });

  it('answers 413 from Content-Length alone, before any of the body arrives', async () => {
    const res = await answerBeforeUploadEnds('/register', { 'content-type': 'application/json', 'content-length': String(10 * 1024 ** 3) }, (req) =>
      req.flushHeaders(),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('exceeds') });
  });

  it('answers 413 as soon as a chunked body passes the cap, without waiting for its end', async () => {
    const res = await answerBeforeUploadEnds(
      '/oauth2/token',
      { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      (req) => {
        for (let i = 0; i < 17; i++) req.write(Buffer.alloc(64 * 1024, 0x61));
      },
    );
    expect(res.status).toBe(413);
    // The token endpoint's own format, so an OAuth client can read it (RFC 6749 section 5.2).
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_request' });
  });

  it.each(ALL)('%s refuses an absurd URL or header with 431 problem JSON', async (_key, route) => {
    const longUrl = await send(fx.plane.url, { method: route.method, path: `${concrete(route)}?q=${'u'.repeat(MAX_HEADER_BYTES + 1)}`, headers: auth(route) });
    const longHeader = await send(fx.plane.url, {
      method: route.method,
      path: concrete(route),
      headers: { ...auth(route), 'x-fuzz': 'h'.repeat(MAX_HEADER_BYTES + 1) },
    });
    for (const res of [longUrl, longHeader]) {
      expect(res.status).toBe(431);
      expect(isProblem(res), res.text).toBe(true);
    }
    await expectUnchanged(routeKey(route));
  });
});

describe('local mode HTTP edge cases', () => {
  it.each(ALL)('%s answers other methods with 405 in its format and Allow', async (_key, route) => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', route.method === 'GET' ? 'POST' : 'GET']) {
      const res = await send(fx.plane.url, { method, path: concrete(route), headers: auth(route) });
      // `/reviews/{id}` and `/admin/exceptions` serve both GET and POST.
      if (ROUTES.some((r) => r.path === route.path && r.method === method)) continue;
      expect(res.status, `${method} ${route.path}`).toBe(405);
      expect(isEdgeRefusal(route, res), res.text).toBe(true);
      expect(String(res.headers['allow'])).toContain(route.method);
    }
    await expectUnchanged(routeKey(route));
  });

  it.each([
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400],
    ['an empty authority target', 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404],
    ['a network-path target (never another route)', 'POST //evil.example/register HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 404],
    ['no Host on HTTP/1.1', 'GET /.well-known/jwks.json HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['an Expect it cannot meet', 'GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n', 417],
    ['garbage instead of HTTP', 'HELLO WORLD\r\n\r\n', 400],
    ['a non-numeric Content-Length', 'POST /register HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n', 400],
    ['Content-Length with chunked', 'POST /register HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a header line without a colon', 'GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400],
  ])('answers %s with problem JSON', async (name, text, status) => {
    const res = await rawExchange(text);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status });
    await expectUnchanged(name);
  });

  it('routes an absolute-form target by its path', async () => {
    const res = await rawExchange('GET http://any.example/.well-known/jwks.json HTTP/1.1\r\nHost: any.example\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('keys');
  });
});

describe('regressions found by the route fuzzers', () => {
  it('treats query parameters and headers named constructor or __proto__ as data (was 500)', async () => {
    const discovery = await send(fx.plane.url, {
      method: 'GET',
      path: '/.well-known/jwks.json?constructor=1&__proto__=2&toString=3',
      headers: { constructor: 'x', ['__proto__']: 'y' },
    });
    expect(discovery.status).toBe(200);
    const token = await send(fx.plane.url, {
      method: 'POST',
      path: '/oauth2/token?constructor=',
      headers: { 'content-type': 'application/x-www-form-urlencoded', constructor: 'x' },
      body: Buffer.from('grant_type=client_credentials&client_id=nobody&client_secret=x'),
    });
    expect(token.status).toBe(401);
    expect(JSON.parse(token.text)).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a JWK member nested deeper than a key can be, with or without Idempotency-Key (was 500 and 503)', async () => {
    for (const idempotency of [{ 'idempotency-key': 'fuzz-regression-deep-jwk-0001' }, {}] as Record<string, string>[]) {
      const body = JSON.stringify({
        client_name: 'Deep key',
        tier: 'public',
        scope: 'reference-data:read',
        purpose: 'Show daily FX rates in our budgeting app',
        data_classes: ['public'],
        contacts: ['dev@fintech.example'],
        expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', ext_member: '@@deep@@' }] },
      }).replace('"@@deep@@"', deepJson(20_000, 'array'));
      const res = await send(fx.plane.url, {
        method: 'POST',
        path: '/register',
        headers: { 'content-type': 'application/json', ...idempotency },
        body: Buffer.from(body),
      });
      expect(res.status, res.text).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_client_metadata', field: 'jwks.keys.0.ext_member' });
    }
    await expectUnchanged('a deeply nested JWK');
  });

  it.each<[string, { body: string; authorization?: string }]>([
    ['a 3000-character client_id (post)', { body: `grant_type=client_credentials&client_id=${'c'.repeat(3000)}&client_secret=x` }],
    ['an empty client_id (post)', { body: 'grant_type=client_credentials&client_id=&client_secret=x' }],
    ['a 3000-character client_id (Basic)', { body: 'grant_type=client_credentials', authorization: `Basic ${b64(`${'c'.repeat(3000)}:x`)}` }],
  ])('refuses %s at the token endpoint with invalid_client', async (_name, { body, authorization }) => {
    const res = await send(fx.plane.url, {
      method: 'POST',
      path: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      body: Buffer.from(body),
    });
    expect(res.status, res.text).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_client' });
    if (authorization) expect(res.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('answers a registration read for a 3000-character client id with invalid_token, not 503', async () => {
    const res = await send(fx.plane.url, { method: 'GET', path: `/register/${'c'.repeat(3000)}`, headers: { authorization: 'Bearer whatever' } });
    expect(res.status, res.text).toBe(401);
    expect(JSON.parse(res.text)).toMatchObject({ error: 'invalid_token' });
  });

  it('keeps error_description within RFC 6749’s characters: a value it cannot quote faithfully is not quoted', async () => {
    const res = await send(fx.plane.url, {
      method: 'POST',
      path: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${b64(`${fx.basic.clientId}:${fx.basic.secret}`)}` },
      body: Buffer.from(`grant_type=${encodeURIComponent('"x\\y’\u0000😀')}`),
    });
    expect(res.status).toBe(400);
    const json = JSON.parse(res.text) as { error: string; error_description: string };
    expect(json.error).toBe('unsupported_grant_type');
    expect(json.error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/);
    expect(json.error_description).toBe('Only client_credentials is supported, not the grant_type sent.');
  });
});
