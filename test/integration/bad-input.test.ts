import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => {
  await plane?.close();
});

const RFC7591_CODES = ['invalid_client_metadata', 'invalid_software_statement', 'unapproved_software_statement', 'idempotency_key_invalid'];

async function raw(path: string, init: RequestInit): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

describe('local mode over HTTP: bad input', () => {
  it.each([
    ['malformed JSON', '{"client_name": ', /not valid JSON/],
    ['an empty body', '', /not valid JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['JSON null', 'null', /JSON object/],
    ['a JSON string', '"hello"', /JSON object/],
    ['a JSON number', '42', /JSON object/],
  ])('refuses %s with RFC 7591 invalid_client_metadata, writing nothing', async (_name, body, description) => {
    const before = await tableSnapshot(plane);
    const res = await raw('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(description) });
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it.each([
    ['client_name of the wrong type', { client_name: 42 }, 'client_name'],
    ['scope of the wrong type', { scope: ['reference-data:read'] }, 'scope'],
    ['contacts that are not emails', { contacts: ['not-an-email'] }, 'contacts.0'],
    ['an unknown tier', { tier: 'vip' }, 'tier'],
    ['an expiry that is not a date-time', { expires_at: 'next year' }, 'expires_at'],
    ['redirect_uris', { redirect_uris: ['https://app.example/cb'] }, 'redirect_uris'],
    [
      'a private key in jwks',
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret' }] } },
      'jwks.keys.0',
    ],
    ['an unknown grant type', { grant_types: ['authorization_code'] }, 'grant_types.0'],
    ['a line break in client_name', { client_name: 'Widget\r\nRisk: low' }, 'client_name'],
    ['an ANSI escape in client_name', { client_name: 'Widget \u001b[31mred' }, 'client_name'],
    ['a C1 control character in client_name', { client_name: 'Widget \u009b2J' }, 'client_name'],
    ['DEL in software_version', { software_version: '1.0\u007f' }, 'software_version'],
    ['a line break in software_id', { software_id: 'app\nx' }, 'software_id'],
    ['a tab in a data class', { data_classes: ['public\tpayment'] }, 'data_classes.0'],
    ['a line break in a contact', { contacts: ['dev@fintech.example\nBcc: x@evil.example'] }, 'contacts.0'],
    ['an escape in purpose', { purpose: 'Rates \u001b[2J' }, 'purpose'],
    ['a lone CR in purpose', { purpose: 'Rates\rRisk: low' }, 'purpose'],
  ])('refuses %s with invalid_client_metadata naming the field', async (_name, overrides, field) => {
    const before = await tableSnapshot(plane);
    const res = await postJson(`${plane.url}/register`, publicRequest(overrides));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_client_metadata', field });
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it('writes error descriptions in plain ASCII, with no ? standing in for a character', async () => {
    const res = await postJson(`${plane.url}/register`, publicRequest({ scope: 'reference-data:read  double-space' }));
    expect(res.status).toBe(400);
    expect(res.json['error_description']).toBe('scope: space-separated scope tokens (RFC 6749 section 3.3)');
  });

  it('refuses unknown scopes as a policy denial naming the scope', async () => {
    const res = await postJson(`${plane.url}/register`, publicRequest({ scope: 'reference-data:read gold:mine' }));
    expect(res.status).toBe(403);
    expect(res.json['reasons']).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'scope_unknown', subject: 'gold:mine' })]));
  });

  it('refuses a forged software statement with invalid_software_statement', async () => {
    const res = await postJson(
      `${plane.url}/register`,
      publicRequest({ tier: 'partner', software_statement: 'eyJhbGciOiJub25lIn0.eyJ0aWVyIjoicGFydG5lciJ9.' }),
    );
    expect(res.status).toBe(400);
    expect(res.json['error']).toBe('invalid_software_statement');
  });

  it("refuses oversized bodies with 413 before parsing, as RFC 7591 JSON (the handler's limit and the server's cap)", async () => {
    const before = await tableSnapshot(plane);
    const big = JSON.stringify(publicRequest({ purpose: 'x'.repeat(100 * 1024) }));
    const res = await raw('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(res.status).toBe(413);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/exceeds \d+ bytes/) });
    const huge = await raw('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/exceeds \d+ bytes/) });
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['no content type', {}],
  ])('refuses a registration sent as %s with 415 and RFC 7591 JSON', async (_name, headers) => {
    const res = await raw('/register', { method: 'POST', headers, body: 'hello' });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining('application/json') });
  });

  it.each([
    ['GET /register', 'GET', '/register', 405],
    ['PATCH /register/{client_id}', 'PATCH', '/register/gh_nobody', 405],
    ['POST /register/{client_id}', 'POST', '/register/gh_nobody', 405],
    ['a path under /register that no route has', 'GET', '/register/a/b', 404],
  ])('answers %s with RFC 7591 JSON, not problem JSON', async (_name, method, path, status) => {
    const res = await raw(path, { method });
    expect(res.status).toBe(status);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('answers the Idempotency-Key conflicts in RFC 7591 JSON', async () => {
    const key = crypto.randomUUID();
    expect((await postJson(`${plane.url}/register`, publicRequest({ client_name: 'Idempotent widget' }), { 'idempotency-key': key })).status).toBe(201);
    const reused = await postJson(`${plane.url}/register`, publicRequest({ client_name: 'Another widget' }), { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.json).toMatchObject({ error: 'idempotency_key_reused', error_description: expect.any(String) });
    const invalid = await postJson(`${plane.url}/register`, publicRequest(), { 'idempotency-key': 'x'.repeat(1000) });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ error: 'idempotency_key_invalid', error_description: expect.any(String) });
  });

  it('keeps policy refusals at 403 with reasons and the access_denied code', async () => {
    const res = await postJson(`${plane.url}/register`, publicRequest({ scope: 'payments:initiate', data_classes: ['payment'] }));
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ error: 'access_denied', error_description: expect.any(String), reasons: expect.any(Array) });
  });

  it('answers unknown routes with 404 and wrong methods with 405, as problem JSON', async () => {
    expect((await raw('/nope', { method: 'GET' })).status).toBe(404);
    const res = await fetch(`${plane.url}/oauth2/token`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it.each([
    ['no client authentication', 'grant_type=client_credentials', {}, 401, 'invalid_client'],
    ['an unknown client', 'grant_type=client_credentials&client_id=nobody&client_secret=x', {}, 401, 'invalid_client'],
    ['no grant_type', 'client_id=nobody&client_secret=x', {}, 400, 'invalid_request'],
    ['a repeated parameter', 'grant_type=client_credentials&grant_type=client_credentials', {}, 400, 'invalid_request'],
    ['garbage Basic credentials', 'grant_type=client_credentials', { authorization: 'Basic %%%' }, 401, 'invalid_client'],
    [
      'a client assertion that is not a JWT',
      'grant_type=client_credentials&client_assertion=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer',
      {},
      401,
      'invalid_client',
    ],
  ])('token endpoint refuses %s with an RFC 6749 error', async (_name, body, headers, status, error) => {
    const res = await raw('/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    expect(res.status).toBe(status);
    expect(res.body['error']).toBe(error);
  });

  it('token endpoint refuses JSON bodies with invalid_request', async () => {
    const res = await raw('/oauth2/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' });
    expect(res.status).toBe(400);
    expect(res.body['error']).toBe('invalid_request');
  });

  it('never answers random registration bodies with a 5xx, and always in the protocol format', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json({ maxDepth: 3 }),
          fc
            .dictionary(
              fc.constantFrom(
                'client_name',
                'tier',
                'scope',
                'purpose',
                'data_classes',
                'contacts',
                'expires_at',
                'jwks',
                'token_endpoint_auth_method',
                'software_statement',
              ),
              fc.jsonValue({ maxDepth: 2 }),
            )
            .map((o) => JSON.stringify({ ...publicRequest(), ...o })),
        ),
        async (body) => {
          const res = await fetch(`${plane.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          expect(res.status).toBeLessThan(500);
          const json = (await res.json()) as Record<string, unknown>;
          if (res.status >= 400) {
            // RFC 7591 section 3.2.2 on every 4xx, whichever stage refused the body.
            expect(res.headers.get('content-type')).toBe('application/json');
            expect(RFC7591_CODES.includes(String(json['error'])) || json['error'] === 'access_denied').toBe(true);
            expect(json['error_description']).toMatch(/^[\x20-\x7E]+$/);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
