import { request } from 'node:http';
import { connect } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type LocalHttpServer } from '../../../../lambdas/adapters/local/http-server.js';
import { HTTP_HANDLERS, type HttpHandlerName } from '../../../../lambdas/contracts/routes.js';
import type { HttpLambda } from '../../../../lambdas/handlers/http/http-handler.js';

let server: LocalHttpServer;
let answer: APIGatewayProxyResult;

beforeAll(async () => {
  server = await startHttpServer({ port: 0, adminToken: 'admin-token' });
  const handler: HttpLambda = async () => answer;
  server.setHandlers(Object.fromEntries(HTTP_HANDLERS.map((name) => [name, handler])) as Record<HttpHandlerName, HttpLambda>);
});

afterAll(() => server.close(100));

/** One request on a fresh connection; the raw answer as Node's client parsed it. */
function post(path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end('grant_type=client_credentials');
  });
}

describe('startHttpServer', () => {
  it("writes the handler's status, headers and text body, with the body's length in bytes", async () => {
    answer = { statusCode: 200, headers: { 'content-type': 'application/json', 'x-extra': 'a' }, body: '{"name":"Zürich €"}' };

    const res = await post('/oauth2/token');

    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-extra']).toBe('a');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(answer.body)));
    expect(res.body.toString('utf8')).toBe('{"name":"Zürich €"}');
  });

  it('decodes a base64 body and sets the length itself, whatever length the handler wrote', async () => {
    answer = { statusCode: 200, headers: { 'content-length': '1' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };

    const res = await post('/oauth2/token');

    expect(res.headers['content-length']).toBe('4');
    expect([...res.body]).toEqual([0, 1, 2, 255]);
  });
});

describe('a request that stops short of its Content-Length', () => {
  it('is answered 408 problem JSON once the read timeout passes, and its connection closed', async () => {
    const slow = await startHttpServer({ port: 0, adminToken: 'admin-token', readTimeoutMs: 500 });
    const handler: HttpLambda = async () => answer;
    slow.setHandlers(Object.fromEntries(HTTP_HANDLERS.map((name) => [name, handler])) as Record<HttpHandlerName, HttpLambda>);
    try {
      const { port } = new URL(slow.url);
      const started = Date.now();
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type',
          );
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 408 /);
      expect(raw).toContain('application/problem+json');
      expect(raw).toContain('"status":408');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await slow.close(100);
    }
  });
});
