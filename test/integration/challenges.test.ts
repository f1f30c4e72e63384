import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { ROUTES, type Route } from '../../lambdas/contracts/routes.js';
import { registerPartner, startTestPlane } from './local-mode.js';

/**
 * Every 401 local mode can give, provoked over HTTP, each with the WWW-Authenticate challenge RFC 9110 section 11.6.1
 * requires, matching how the client tried to authenticate:
 * - client_secret_basic (the one client authentication that is an HTTP scheme): `Basic`;
 * - private_key_jwt and client_secret_post travel in the form body, which no HTTP scheme describes: the challenge names
 *   the OAuth method as its scheme, never Basic (a Basic challenge would tell a key-bound client to send a password);
 * - no credentials at all: every method the endpoint takes;
 * - RFC 7592's registration access token: `Bearer` with `error="invalid_token"`; the admin routes: the admin token's Bearer.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CLIENT_ENDPOINTS = ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke'] as const;

let plane: LocalControlPlane;
let partner: { clientId: string; privateKey: CryptoKey; kid: string };
let strangerKey: CryptoKey;

beforeAll(async () => {
  plane = await startTestPlane();
  const reg = await registerPartner(plane, { scope: 'reference-data:read', data_classes: ['public'] });
  expect(reg.status).toBe(201);
  partner = reg;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
});
afterAll(async () => {
  await plane?.close();
});

function assertion(claims: { iat?: number; exp?: number } = {}, key: CryptoKey = partner.privateKey, aud = plane.url): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: partner.kid })
    .setIssuer(partner.clientId)
    .setSubject(partner.clientId)
    .setAudience(aud)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 60)
    .sign(key);
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

interface Attempt {
  readonly path: string;
  readonly method?: string;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

async function attempt(a: Attempt): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${a.path}`, {
    method: a.method ?? 'POST',
    headers: { ...(a.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...a.headers },
    ...(a.form ? { body: new URLSearchParams(a.form).toString() } : {}),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, unknown> };
}

/** Each case: what is sent, and the challenge it must get. Builders run after the plane is up. */
type Case = readonly [name: string, build: () => Promise<Attempt> | Attempt, challenge: RegExp];

const clientCases = (path: string): Case[] => {
  const grant: Record<string, string> = path === '/oauth2/token' ? { grant_type: 'client_credentials' } : { token: 'x' };
  return [
    [
      `${path}: no client authentication`,
      () => ({ path, form: grant }),
      /^private_key_jwt realm="gatehouse", Basic realm="gatehouse", charset="UTF-8", client_secret_post realm="gatehouse"$/,
    ],
    [
      `${path}: a wrong client_secret_basic`,
      () => ({ path, form: grant, headers: { authorization: basic('gh_nobody', 'wrong') } }),
      /^Basic realm="gatehouse"/,
    ],
    [`${path}: malformed Basic credentials`, () => ({ path, form: grant, headers: { authorization: 'Basic %%%' } }), /^Basic realm="gatehouse"/],
    [
      `${path}: a wrong client_secret_post`,
      () => ({ path, form: { ...grant, client_id: 'gh_nobody', client_secret: 'wrong' } }),
      /^client_secret_post realm="gatehouse"$/,
    ],
    [
      `${path}: a client assertion that is not a JWT`,
      () => ({ path, form: { ...grant, client_assertion_type: JWT_BEARER, client_assertion: 'not-a-jwt' } }),
      /^private_key_jwt realm="gatehouse"$/,
    ],
    [
      `${path}: an assertion signed by another key`,
      async () => ({ path, form: { ...grant, client_assertion_type: JWT_BEARER, client_assertion: await assertion({}, strangerKey) } }),
      /^private_key_jwt realm="gatehouse"$/,
    ],
    [
      `${path}: a secret from a private_key_jwt client`,
      () => ({ path, form: { ...grant, client_id: partner.clientId, client_secret: 'guess' } }),
      /^client_secret_post realm="gatehouse"$/,
    ],
  ];
};

const concrete = (route: Route) => route.path.replace('{client_id}', 'gh_nobody0000000000000');

const cases = (): Case[] => [
  ...CLIENT_ENDPOINTS.flatMap(clientCases),
  ['GET /register/{client_id}: no registration access token', () => ({ path: `/register/${partner.clientId}`, method: 'GET' }), /^Bearer realm="gatehouse"$/],
  [
    'GET /register/{client_id}: a wrong registration access token',
    () => ({ path: `/register/${partner.clientId}`, method: 'GET', headers: { authorization: 'Bearer wrong' } }),
    /^Bearer realm="gatehouse", error="invalid_token"$/,
  ],
  [
    'GET /register/{client_id}: an unknown client',
    () => ({ path: '/register/gh_nobody0000000000000', method: 'GET', headers: { authorization: 'Bearer wrong' } }),
    /^Bearer realm="gatehouse", error="invalid_token"$/,
  ],
  ...ROUTES.filter((r) => r.auth === 'iam').flatMap((route): Case[] => [
    [`${route.method} ${route.path}: no admin token`, () => ({ path: concrete(route), method: route.method }), /^Bearer realm="gatehouse-admin"$/],
    [
      `${route.method} ${route.path}: a wrong admin token`,
      () => ({ path: concrete(route), method: route.method, headers: { authorization: 'Bearer wrong' } }),
      /^Bearer realm="gatehouse-admin"$/,
    ],
  ]),
];

describe('401 challenges over HTTP (RFC 9110 section 11.6.1)', () => {
  it('covers every route that authenticates its caller', () => {
    const authenticating = ROUTES.filter((r) => r.auth === 'iam' || ['token', 'introspection', 'revocation', 'registration-read'].includes(r.handler));
    const named = cases().map(([name]) => name);
    for (const route of authenticating) {
      const key = route.auth === 'iam' || route.handler === 'registration-read' ? `${route.method} ${route.path}:` : `${route.path}:`;
      expect(
        named.some((n) => n.startsWith(key)),
        key,
      ).toBe(true);
    }
  });

  it('answers every 401 with a WWW-Authenticate challenge that matches how the client authenticated', async () => {
    for (const [name, build, challenge] of cases()) {
      const res = await attempt(await build());
      expect(res.status, name).toBe(401);
      expect(res.challenge, name).toMatch(challenge);
    }
  });

  it('never challenges a failed private_key_jwt or client_secret_post with Basic alone', async () => {
    for (const [name, build] of cases().filter(([n]) => /assertion|client_secret_post|private_key_jwt client/.test(n))) {
      const res = await attempt(await build());
      expect(res.challenge, name).not.toMatch(/^Basic/);
    }
  });
});

describe('private_key_jwt assertion lifetime over HTTP', () => {
  it('refuses a 1-hour assertion, saying how long it lived and how long it may (the policy setting)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await attempt({
      path: '/oauth2/token',
      form: { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion({ iat: now, exp: now + 3600 }) },
    });

    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Client assertions may live at most 300 seconds; this one lives 3600 seconds.' });
    expect(res.challenge).toBe('private_key_jwt realm="gatehouse"');
    expect(plane.services.policy.document.clientAssertions.maxLifetimeSeconds).toBe(300);
  });

  it('accepts a 5-minute assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await attempt({
      path: '/oauth2/token',
      form: { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion({ iat: now, exp: now + 300 }) },
    });

    expect(res.status).toBe(200);
  });
});
