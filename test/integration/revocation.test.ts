import express from 'express';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { requireAccessToken, type ContextWithAccess } from '../../lambdas/verifier/middleware.js';
import { createAccessTokenVerifier } from '../../lambdas/verifier/verify-access-token.js';
import { listen, type RunningApp } from './independent/express-app.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

/** Gatehouse's cache of the list (15 s) plus the verifier's default refresh (30 s): the window the README states. */
const WINDOW_MS = 45_000;
const CONSUMER_CACHE_MS = 5_000;

let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
let plane: LocalControlPlane;
let bank: RunningApp;

/**
 * A bank API on Express guarded by requireAccessToken (the middy middleware bank Lambdas use), fed each Express request
 * as the API Gateway event it would be, with the verifier reading Gatehouse's JWKS and revocation list over HTTP.
 */
function bankApi(): express.Express {
  const verify = createAccessTokenVerifier({
    issuer: plane.url,
    audience: 'https://api.bank.example',
    jwks: new URL(`${plane.url}/.well-known/jwks.json`),
    now: clock.now,
  });
  const guard = requireAccessToken(verify, { scopes: ['reference-data:read'] });
  const app = express();
  app.get('/fx-rates', async (req, res) => {
    const request = {
      event: { httpMethod: req.method, path: req.path, headers: req.headers, multiValueHeaders: {}, requestContext: { path: req.path } },
      context: {} as ContextWithAccess,
    };
    const refusal = await guard.before!(request as unknown as Parameters<NonNullable<typeof guard.before>>[0]);
    if (refusal) {
      res.status(refusal.statusCode).set(refusal.headers).send(refusal.body);
      return;
    }
    res.json({ client: request.context.gatehouse!.clientId, rates: { EURUSD: 1.08 } });
  });
  return app;
}

beforeAll(async () => {
  plane = await startTestPlane({ clock, consumerCacheMs: CONSUMER_CACHE_MS });
  bank = await listen(bankApi());
});
afterAll(async () => {
  await bank?.close();
  await plane?.close();
});

async function register(): Promise<{ clientId: string; basic: string }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  const clientId = String(reg.json['client_id']);
  return { clientId, basic: Buffer.from(`${clientId}:${String(reg.json['client_secret'])}`).toString('base64') };
}

async function tokenFor(basic: string): Promise<{ status: number; token: string }> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.json()) as { access_token?: string };
  return { status: res.status, token: body.access_token ?? '' };
}

async function callBank(token: string): Promise<{ status: number; error: unknown; challenge: string | null }> {
  const res = await fetch(`${bank.url}/fx-rates`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: unknown };
  return { status: res.status, error: body.error, challenge: res.headers.get('www-authenticate') };
}

async function admin(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('local mode: revocation reaches resource servers', () => {
  it('publishes a signed, briefly cacheable revocation list, advertised in the metadata', async () => {
    const metadata = (await (await fetch(`${plane.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata['gatehouse_revocation_list_uri']).toBe(`${plane.url}/oauth2/revocations`);

    const res = await fetch(`${plane.url}/oauth2/revocations`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwt');
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(0);
    expect(maxAge).toBeLessThanOrEqual(15);
    // Checked with jose's own remote key set: the same keys as access tokens, its own typ.
    const { payload, protectedHeader } = await jwtVerify(await res.text(), createRemoteJWKSet(new URL(`${plane.url}/.well-known/jwks.json`)), {
      issuer: plane.url,
      typ: 'revocation-list+jwt',
      currentDate: clock.now(),
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ revoked_tokens: expect.any(Array), revoked_clients: expect.any(Array) });
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it('suspend: the suspending instance issues no more tokens at once, and the bank API refuses the old ones within the window', async () => {
    const { clientId, basic } = await register();
    const { token } = await tokenFor(basic);
    // The first token records the consumer's use, which drops it from the cache; the second leaves it cached.
    expect((await tokenFor(basic)).status).toBe(200);
    expect(await callBank(token)).toMatchObject({ status: 200 });

    const suspendedAt = clock.now().getTime();
    expect((await admin(`/admin/consumers/${clientId}/suspend`, { reason: 'incident INC-7: key leaked in a public repository' })).status).toBe(200);

    // No new token, although the record was cached a moment ago.
    expect((await tokenFor(basic)).status).not.toBe(200);

    offset += WINDOW_MS;
    const refused = await callBank(token);
    expect(refused).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(refused.challenge).toContain("The client's access was suspended");

    // Listed with `since` past the token endpoint's cache, so tokens a warm instance issued meanwhile are refused too.
    const list = decodeJwt(await (await fetch(`${plane.url}/oauth2/revocations`)).text()) as { revoked_clients: Array<Record<string, unknown>> };
    const entry = list.revoked_clients.find((c) => c['client_id'] === clientId);
    expect(entry).toMatchObject({ status: 'suspended' });
    expect(Number(entry!['since'])).toBeGreaterThanOrEqual(Math.ceil((suspendedAt + CONSUMER_CACHE_MS) / 1000));
  });

  it('terminate: the bank API refuses the consumer’s tokens within the window', async () => {
    const { clientId, basic } = await register();
    const { token } = await tokenFor(basic);
    expect(await callBank(token)).toMatchObject({ status: 200 });

    expect((await admin(`/admin/consumers/${clientId}/terminate`, { reason: 'contract ended on request of the partner' })).status).toBe(200);

    offset += WINDOW_MS;
    expect(await callBank(token)).toMatchObject({ status: 401, error: 'invalid_token' });
  });

  it('/oauth2/revoke: the bank API refuses the revoked token within the window, and the client’s other tokens still work', async () => {
    const { basic } = await register();
    const { token: revoked } = await tokenFor(basic);
    const { token: kept } = await tokenFor(basic);
    expect(await callBank(revoked)).toMatchObject({ status: 200 });

    const res = await fetch(`${plane.url}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: revoked }).toString(),
    });
    expect(res.status).toBe(200);

    offset += WINDOW_MS;
    const refused = await callBank(revoked);
    expect(refused).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(refused.challenge).toContain('The access token was revoked');
    expect(await callBank(kept)).toMatchObject({ status: 200 });
  });

  it("refuses an access-token TTL exception beyond the policy's longest TTL, which the list covers", async () => {
    const { clientId } = await register();
    const asked = await admin('/admin/exceptions', {
      client_id: clientId,
      rule: 'access_token_ttl_seconds',
      value: 86_400,
      justification: 'Batch job runs for a whole day without a token refresh',
      expires_at: new Date(clock.now().getTime() + 30 * 86_400_000).toISOString(),
    });
    expect(asked).toMatchObject({
      status: 400,
      json: { type: expect.stringContaining('invalid-exception'), detail: expect.stringContaining('at most 3600 s') },
    });
  });
});
