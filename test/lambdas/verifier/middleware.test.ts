import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken } from '../../../lambdas/core/tokens/mint.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import { AccessError } from '../../../lambdas/verifier/errors.js';
import { requestUrl, requireAccessToken, type ContextWithAccess } from '../../../lambdas/verifier/middleware.js';
import { createAccessTokenVerifier, type AccessTokenVerifier, type VerifiedAccess } from '../../../lambdas/verifier/verify-access-token.js';
import { clientKey, signProof, type ClientKey } from '../core/oauth/fixtures.js';
import { CLIENT_ID, TestClock } from '../fixtures.js';
import { httpEvent, ISSUER, lambdaContext, TOKEN_AUDIENCE } from '../handlers/fixtures.js';

const PUBLIC_BASE = 'https://api.bank.test/v1';

/** A GET /accounts/42 as API Gateway delivers it behind the `v1` stage of api.bank.test. */
function apiEvent(headers: Record<string, string> = {}, changes: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  const event = httpEvent({ method: 'GET', resource: '/accounts/{id}', path: '/accounts/42', headers: { Host: 'api.bank.test', ...headers } });
  return {
    ...event,
    requestContext: { ...event.requestContext, domainName: 'abc123.execute-api.eu-west-1.amazonaws.com', path: '/v1/accounts/42' },
    ...changes,
  };
}

describe('requireAccessToken', () => {
  let signing: { kid: string; key: CryptoKey };
  let jwks: { keys: JWK[] };
  let dpopKey: ClientKey;
  let jkt: string;
  let clock: TestClock;
  let verifier: AccessTokenVerifier;
  let inner: ReturnType<typeof vi.fn<(event: APIGatewayProxyEvent, context: ContextWithAccess) => Promise<APIGatewayProxyResult>>>;

  beforeAll(async () => {
    const key = await generateSigningKey();
    signing = { kid: key.kid, key: (await importJWK(key.privateJwk as JWK, 'ES256')) as CryptoKey };
    jwks = { keys: [{ ...(key.publicJwk as JWK), alg: 'ES256', use: 'sig' }] };
    dpopKey = await clientKey('PS256');
    jkt = await calculateJwkThumbprint(dpopKey.jwk);
  });

  beforeEach(() => {
    clock = new TestClock();
    verifier = createAccessTokenVerifier({ issuer: ISSUER, audience: TOKEN_AUDIENCE, jwks, now: () => clock.now() });
    inner = vi.fn(async (_event: APIGatewayProxyEvent, context: ContextWithAccess) => ({
      statusCode: 200,
      body: JSON.stringify({ client: context.gatehouse?.clientId }),
    }));
  });

  const api = (options: Parameters<typeof requireAccessToken>[1] = {}, v: AccessTokenVerifier = verifier) =>
    middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ContextWithAccess>()
      .use(requireAccessToken(v, options))
      .handler((event, context) => inner(event, context));

  const call = (event: APIGatewayProxyEvent, options: Parameters<typeof requireAccessToken>[1] = {}, v?: AccessTokenVerifier) =>
    api(options, v)(event, { ...lambdaContext } as ContextWithAccess);

  const token = async (options: { jkt?: string; scopes?: string[] } = {}) =>
    (
      await mintAccessToken(signing, {
        issuer: ISSUER,
        audience: TOKEN_AUDIENCE,
        clientId: CLIENT_ID,
        scopes: options.scopes ?? ['accounts:read'],
        ttlSeconds: 300,
        now: clock.now(),
        ...(options.jkt ? { jkt: options.jkt } : {}),
      })
    ).token;

  const proof = (accessToken: string, htu: string, changes: Record<string, unknown> = {}) =>
    signProof(dpopKey, { htm: 'GET', htu, ath: sha256B64u(accessToken), ...changes });

  const expectRefusal = (response: APIGatewayProxyResult, status: number, code: string) => {
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: code, error_description: expect.any(String) });
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'www-authenticate': expect.stringContaining(`error="${code}"`),
    });
    expect(inner).not.toHaveBeenCalled();
  };

  it('passes the verified access to the handler in context.gatehouse', async () => {
    const response = await call(apiEvent({ authorization: `Bearer ${await token()}` }), { scopes: ['accounts:read'] });

    expect(response).toEqual({ statusCode: 200, body: JSON.stringify({ client: CLIENT_ID }) });
    const context = inner.mock.calls[0]![1];
    expect(context.gatehouse).toMatchObject({ clientId: CLIENT_ID, scopes: ['accounts:read'], jkt: undefined } satisfies Partial<VerifiedAccess>);
  });

  it('reads headers in any case', async () => {
    const response = await call(apiEvent({ AUTHORIZATION: `Bearer ${await token()}` }));

    expect(response.statusCode).toBe(200);
  });

  it('answers 401 with a Bearer challenge and never calls the handler without a token', async () => {
    const response = await call(apiEvent());

    expectRefusal(response, 401, 'invalid_token');
    expect(response.headers!['www-authenticate']).toMatch(/^Bearer realm="api"/);
  });

  it('answers 403 insufficient_scope naming the scope needed', async () => {
    const response = await call(apiEvent({ authorization: `Bearer ${await token()}` }), { scopes: ['payments:initiate'] });

    expectRefusal(response, 403, 'insufficient_scope');
    expect(response.headers!['www-authenticate']).toContain('scope="payments:initiate"');
  });

  describe('DPoP-bound tokens', () => {
    it('accepts a proof for the URL the client called, stage included', async () => {
      const t = await token({ jkt });

      const response = await call(apiEvent({ authorization: `DPoP ${t}`, DPoP: await proof(t, 'https://api.bank.test/v1/accounts/42') }));

      expect(response.statusCode).toBe(200);
      expect(inner.mock.calls[0]![1].gatehouse).toMatchObject({ jkt });
    });

    it('accepts a proof for the public base URL when one is configured', async () => {
      const t = await token({ jkt });
      const dpop = await proof(t, `${PUBLIC_BASE}/accounts/42`);
      const event = apiEvent({}, { headers: { authorization: `DPoP ${t}`, dpop, host: 'internal-alb.local' } });

      const response = await call(event, { publicBaseUrl: `${PUBLIC_BASE}/` });

      expect(response.statusCode).toBe(200);
    });

    it('answers 401 invalid_dpop_proof when the proof is missing', async () => {
      const response = await call(apiEvent({ authorization: `DPoP ${await token({ jkt })}` }));

      expectRefusal(response, 401, 'invalid_dpop_proof');
      expect(response.headers!['www-authenticate']).toMatch(/^DPoP realm="api", .*algs="ES256 PS256 Ed25519 EdDSA"$/);
    });

    it('answers 401 invalid_dpop_proof for a proof made for another URL', async () => {
      const t = await token({ jkt });

      const response = await call(apiEvent({ authorization: `DPoP ${t}`, dpop: await proof(t, 'https://api.bank.test/v1/accounts/43') }));

      expectRefusal(response, 401, 'invalid_dpop_proof');
    });

    it('answers 401 invalid_dpop_proof for a replayed proof', async () => {
      const t = await token({ jkt });
      const event = apiEvent({ authorization: `DPoP ${t}`, dpop: await proof(t, 'https://api.bank.test/v1/accounts/42') });
      expect((await call(event)).statusCode).toBe(200);
      inner.mockClear();

      expectRefusal(await call(event), 401, 'invalid_dpop_proof');
    });

    // RFC 9449 §4.3: more than one DPoP header is refused.
    it('refuses a request carrying two DPoP headers', async () => {
      const t = await token({ jkt });
      const good = await proof(t, 'https://api.bank.test/v1/accounts/42');
      const other = await proof(t, 'https://api.bank.test/v1/accounts/42');
      const event = apiEvent({ authorization: `DPoP ${t}`, dpop: good }, { multiValueHeaders: { authorization: [`DPoP ${t}`], dpop: [other, good] } });

      const response = await call(event);

      expectRefusal(response, 401, 'invalid_dpop_proof');
    });
  });

  it('lets errors other than AccessError reach middy’s error handling', async () => {
    const broken: AccessTokenVerifier = async () => {
      throw new TypeError('verifier misconfigured');
    };

    await expect(call(apiEvent({ authorization: 'Bearer x' }), {}, broken)).rejects.toThrow('verifier misconfigured');
    expect(inner).not.toHaveBeenCalled();
  });

  it('strips quotes and backslashes from the description in the challenge', () => {
    const error = new AccessError('invalid_token', 'bad "token" \\ here', { scheme: 'Bearer' });

    expect(error.wwwAuthenticate).toBe('Bearer realm="api", error="invalid_token", error_description="bad token  here"');
    expect(error.status).toBe(401);
  });
});

describe('requestUrl', () => {
  it('uses the public base URL and the resource path when configured', () => {
    expect(requestUrl(apiEvent(), 'https://api.bank.test/v1/')).toBe('https://api.bank.test/v1/accounts/42');
  });

  it('rebuilds the called URL from Host, X-Forwarded-Proto and the stage-prefixed path', () => {
    expect(requestUrl(apiEvent({ 'X-Forwarded-Proto': 'http' }))).toBe('http://api.bank.test/v1/accounts/42');
  });

  it('defaults to https and to the API Gateway domain without a Host header', () => {
    const event = apiEvent({}, { headers: {} });

    expect(requestUrl(event)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/accounts/42');
  });

  it('falls back to localhost and event.path without a request context', () => {
    const event = { ...apiEvent({}, { headers: {} }), requestContext: undefined } as unknown as APIGatewayProxyEvent;

    expect(requestUrl(event)).toBe('https://localhost/accounts/42');
  });
});
