import fc from 'fast-check';
import { calculateJwkThumbprint, decodeJwt, importJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SigningKey } from '../../../lambdas/core/ports.js';
import { signRevocationList } from '../../../lambdas/core/revocation/document.js';
import type { Revocations } from '../../../lambdas/core/revocation/revocation-list.js';
import { generateSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken } from '../../../lambdas/core/tokens/mint.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import { AccessError } from '../../../lambdas/verifier/errors.js';
import {
  createAccessTokenVerifier,
  memoryOnce,
  type AccessTokenVerifier,
  type ProtectedRequest,
  type VerifierOptions,
} from '../../../lambdas/verifier/verify-access-token.js';
import { clientKey, hmacJwt, NOW_S, signProof, unsignedJwt, type ClientKey } from '../core/oauth/fixtures.js';
import { CLIENT_ID, NOW, TestClock } from '../fixtures.js';
import { ISSUER, TOKEN_AUDIENCE } from '../handlers/fixtures.js';
import { jwtMutation, mutate, sameJws } from '../jwt-mutations.js';

const API_URL = 'https://api.bank.test/v1/accounts/42';

/** Gatehouse's signing key as the token endpoint uses it, and its published JWK. */
async function gatehouseKey(): Promise<{ signing: SigningKey; key: { kid: string; key: CryptoKey }; published: JWK }> {
  const signing = await generateSigningKey();
  const key = { kid: signing.kid, key: (await importJWK(signing.privateJwk as JWK, 'ES256')) as CryptoKey };
  return { signing, key, published: { ...(signing.publicJwk as JWK), alg: 'ES256', use: 'sig' } };
}

describe('createAccessTokenVerifier', () => {
  let gatehouse: Awaited<ReturnType<typeof gatehouseKey>>;
  let impostor: Awaited<ReturnType<typeof gatehouseKey>>;
  let dpopKey: ClientKey;
  let otherKey: ClientKey;
  let jkt: string;
  let clock: TestClock;
  let verify: AccessTokenVerifier;

  beforeAll(async () => {
    [gatehouse, impostor, dpopKey, otherKey] = await Promise.all([gatehouseKey(), gatehouseKey(), clientKey('ES256', 'dpop'), clientKey('EdDSA', 'other')]);
    jkt = await calculateJwkThumbprint(dpopKey.jwk);
  });

  const verifierWith = (options: Partial<VerifierOptions> = {}) =>
    createAccessTokenVerifier({ issuer: ISSUER, audience: TOKEN_AUDIENCE, jwks: { keys: [gatehouse.published] }, now: () => clock.now(), ...options });

  beforeEach(() => {
    clock = new TestClock();
    verify = verifierWith();
  });

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const token = async (
    options: { jkt?: string; scopes?: string[]; ttlSeconds?: number; key?: { kid: string; key: CryptoKey }; issuer?: string; audience?: string } = {},
  ) =>
    (
      await mintAccessToken(options.key ?? gatehouse.key, {
        issuer: options.issuer ?? ISSUER,
        audience: options.audience ?? TOKEN_AUDIENCE,
        clientId: CLIENT_ID,
        scopes: options.scopes ?? ['accounts:read', 'reference-data:read'],
        ttlSeconds: options.ttlSeconds ?? 300,
        now: clock.now(),
        extra: { tier: 'partner', risk: 'high' },
        ...(options.jkt ? { jkt: options.jkt } : {}),
      })
    ).token;

  const proofFor = (accessToken: string, changes: Record<string, unknown> = {}, key = dpopKey) =>
    signProof(key, { htm: 'GET', htu: API_URL, ath: sha256B64u(accessToken), iat: Math.floor(clock.now().getTime() / 1000), ...changes });

  const request = (changes: Partial<ProtectedRequest> = {}): ProtectedRequest => ({
    authorization: undefined,
    dpop: undefined,
    method: 'GET',
    url: API_URL,
    ...changes,
  });

  /** Expects the request to be refused with `code`, and returns the error. Nothing is granted on refusal. */
  async function refused(attempt: Promise<unknown>, code: AccessError['code']): Promise<AccessError> {
    const outcome = await attempt.then(
      (granted) => ({ granted }),
      (error: unknown) => ({ error }),
    );
    expect(outcome).not.toHaveProperty('granted');
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(AccessError);
    expect((error as AccessError).code).toBe(code);
    return error as AccessError;
  }

  describe('bearer tokens', () => {
    it('grants access with the client, scopes and claims of a valid token', async () => {
      const t = await token();

      const access = await verify(request({ authorization: `Bearer ${t}` }), ['accounts:read']);

      expect(access).toMatchObject({ clientId: CLIENT_ID, scopes: ['accounts:read', 'reference-data:read'], jkt: undefined });
      expect(access.claims).toMatchObject({ iss: ISSUER, aud: TOKEN_AUDIENCE, sub: CLIENT_ID, tier: 'partner', risk: 'high' });
    });

    it('accepts the scheme name in any case', async () => {
      await expect(verify(request({ authorization: `bearer ${await token()}` }))).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('refuses a request without a token with a Bearer challenge', async () => {
      const error = await refused(verify(request()), 'invalid_token');

      expect(error.status).toBe(401);
      expect(error.wwwAuthenticate).toBe('Bearer realm="api", error="invalid_token", error_description="An access token is required."');
    });

    it('answers a DPoP challenge when a proof came without a token', async () => {
      const error = await refused(verify(request({ dpop: 'proof' })), 'invalid_token');

      expect(error.wwwAuthenticate).toMatch(/^DPoP realm="api", error="invalid_token", .*algs="ES256 PS256 Ed25519 EdDSA"$/);
    });

    it.each([
      ['Basic credentials', 'Basic Z2g6cw=='],
      ['a token with a space', 'Bearer abc def'],
      ['no token', 'Bearer '],
      ['another scheme', 'Token abc'],
    ])('refuses %s as invalid_token', async (_name, authorization) => {
      await refused(verify(request({ authorization })), 'invalid_token');
    });

    it('refuses a missing scope with 403 insufficient_scope naming the scopes needed', async () => {
      const error = await refused(
        verify(request({ authorization: `Bearer ${await token({ scopes: ['reference-data:read'] })}` }), ['accounts:read', 'reference-data:read']),
        'insufficient_scope',
      );

      expect(error.status).toBe(403);
      expect(error.wwwAuthenticate).toContain('scope="accounts:read reference-data:read"');
      expect(error.message).toContain('accounts:read');
    });

    it('accepts a token less than 30 seconds past exp, and refuses it from then on', async () => {
      const t = await token({ ttlSeconds: 60 });
      clock.advance(89_000);
      await expect(verify(request({ authorization: `Bearer ${t}` }))).resolves.toBeDefined();

      clock.advance(1_000);

      await refused(verify(request({ authorization: `Bearer ${t}` })), 'invalid_token');
    });

    it('honours a configured clock tolerance', async () => {
      const t = await token({ ttlSeconds: 60 });
      clock.advance(61_000);

      await refused(verifierWith({ clockToleranceSeconds: 0 })(request({ authorization: `Bearer ${t}` })), 'invalid_token');
    });

    it.each([
      ['for another audience', { audience: 'https://other-api.bank.test' }],
      ['from another issuer', { issuer: 'https://other-as.example' }],
    ])('refuses a token %s', async (_name, options) => {
      await refused(verify(request({ authorization: `Bearer ${await token(options)}` })), 'invalid_token');
    });

    it('refuses a token signed by a key Gatehouse does not publish', async () => {
      await refused(verify(request({ authorization: `Bearer ${await token({ key: impostor.key })}` })), 'invalid_token');
    });

    it('refuses a token signed by an unpublished key under a published kid', async () => {
      await refused(verify(request({ authorization: `Bearer ${await token({ key: { kid: gatehouse.key.kid, key: impostor.key.key } })}` })), 'invalid_token');
    });

    const claims = (): JWTPayload => ({
      iss: ISSUER,
      aud: TOKEN_AUDIENCE,
      sub: CLIENT_ID,
      client_id: CLIENT_ID,
      iat: NOW_S,
      exp: NOW_S + 60,
      jti: 'j',
      scope: 'accounts:read',
    });

    it('refuses an unsigned token (alg none)', async () => {
      await refused(verify(request({ authorization: `Bearer ${unsignedJwt(claims(), { typ: 'at+jwt', kid: gatehouse.key.kid })}` })), 'invalid_token');
    });

    it('refuses HS256 keyed with Gatehouse’s public key (alg confusion)', async () => {
      const forged = await hmacJwt(new TextEncoder().encode(JSON.stringify(gatehouse.published)), claims(), { typ: 'at+jwt', kid: gatehouse.key.kid });

      await refused(verify(request({ authorization: `Bearer ${forged}` })), 'invalid_token');
    });

    it('refuses a JWT of Gatehouse’s key that is not an access token (typ)', async () => {
      const jwt = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: gatehouse.key.kid }).sign(gatehouse.key.key);

      await refused(verify(request({ authorization: `Bearer ${jwt}` })), 'invalid_token');
    });

    it.each(['exp', 'iat', 'sub', 'client_id', 'jti'])('refuses a token without %s', async (claim) => {
      const body = claims();
      delete body[claim];
      const jwt = await new SignJWT(body).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: gatehouse.key.kid }).sign(gatehouse.key.key);

      await refused(verify(request({ authorization: `Bearer ${jwt}` })), 'invalid_token');
    });

    it('refuses an unbound token presented with the DPoP scheme', async () => {
      const t = await token();

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t) })), 'invalid_token');

      expect(error.wwwAuthenticate).toMatch(/^DPoP /);
    });
  });

  describe('DPoP-bound tokens', () => {
    it('grants access with a proof by the bound key', async () => {
      const t = await token({ jkt });

      const access = await verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t) }), ['accounts:read']);

      expect(access).toMatchObject({ clientId: CLIENT_ID, jkt });
    });

    it('refuses a bound token presented without its proof', async () => {
      const error = await refused(verify(request({ authorization: `DPoP ${await token({ jkt })}` })), 'invalid_dpop_proof');

      expect(error.status).toBe(401);
      expect(error.wwwAuthenticate).toMatch(/^DPoP realm="api", error="invalid_dpop_proof"/);
    });

    it('refuses a bound token presented as a Bearer token, even with a proof', async () => {
      const t = await token({ jkt });

      const error = await refused(verify(request({ authorization: `Bearer ${t}`, dpop: await proofFor(t) })), 'invalid_token');

      expect(error.wwwAuthenticate).toMatch(/^DPoP /);
    });

    it('refuses a proof signed with another key than the token is bound to (jkt mismatch)', async () => {
      const t = await token({ jkt });

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t, {}, otherKey) })), 'invalid_dpop_proof');

      expect(error.message).toContain('bound');
    });

    it('refuses a proof whose ath does not match the token', async () => {
      const t = await token({ jkt });
      const another = await token({ jkt });

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(another) })), 'invalid_dpop_proof');

      expect(error.message).toContain('ath');
    });

    it('refuses a proof without ath', async () => {
      const t = await token({ jkt });

      await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t, { ath: undefined }) })), 'invalid_dpop_proof');
    });

    it('refuses a proof for another htu', async () => {
      const t = await token({ jkt });

      const error = await refused(
        verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t, { htu: 'https://api.bank.test/v1/payments' }) })),
        'invalid_dpop_proof',
      );

      expect(error.message).toContain('htu');
    });

    it('refuses a proof for another htm', async () => {
      const t = await token({ jkt });

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t, { htm: 'POST' }) })), 'invalid_dpop_proof');

      expect(error.message).toContain('htm');
    });

    it('refuses a replayed proof', async () => {
      const t = await token({ jkt });
      const proof = await proofFor(t);
      await verify(request({ authorization: `DPoP ${t}`, dpop: proof }));

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: proof })), 'invalid_dpop_proof');

      expect(error.message).toContain('already used');
    });

    it('refuses a stale proof', async () => {
      const t = await token({ jkt });
      const proof = await proofFor(t);
      clock.advance(61_000);

      const error = await refused(verify(request({ authorization: `DPoP ${t}`, dpop: proof })), 'invalid_dpop_proof');

      expect(error.message).toContain('iat');
    });

    it('refuses a proof that is not a JWT', async () => {
      await refused(verify(request({ authorization: `DPoP ${await token({ jkt })}`, dpop: 'not-a-proof' })), 'invalid_dpop_proof');
    });

    it('refuses a proof when the request URL cannot be parsed, without throwing anything else', async () => {
      const t = await token({ jkt });

      await refused(verify(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t), url: 'not a url' })), 'invalid_dpop_proof');
    });

    it('records proof jtis in the injected store', async () => {
      const claimOnce = vi.fn<NonNullable<VerifierOptions['claimOnce']>>(async () => true);
      const t = await token({ jkt });

      await verifierWith({ claimOnce })(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t, { jti: 'p-1' }) }));

      expect(claimOnce).toHaveBeenCalledExactlyOnceWith(`dpop:${jkt}:p-1`, NOW_S + 120, NOW);
    });

    it('refuses a proof the injected store has seen', async () => {
      const t = await token({ jkt });

      await refused(verifierWith({ claimOnce: async () => false })(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t) })), 'invalid_dpop_proof');
    });

    it('checks the token before the proof, so a bad token spends no proof', async () => {
      const claimOnce = vi.fn<NonNullable<VerifierOptions['claimOnce']>>(async () => true);
      const t = await token({ jkt, audience: 'https://other-api.bank.test' });

      await refused(verifierWith({ claimOnce })(request({ authorization: `DPoP ${t}`, dpop: await proofFor(t) })), 'invalid_token');
      expect(claimOnce).not.toHaveBeenCalled();
    });
  });

  describe('remote JWKS', () => {
    it('fetches Gatehouse’s keys from the JWKS URL once and reuses them', async () => {
      const fetch = vi.fn(async () => new Response(JSON.stringify({ keys: [gatehouse.published] }), { headers: { 'content-type': 'application/json' } }));
      vi.stubGlobal('fetch', fetch);
      const remote = verifierWith({ jwks: new URL(`${ISSUER}/.well-known/jwks.json`), revocations: false });

      await remote(request({ authorization: `Bearer ${await token()}` }));
      await remote(request({ authorization: `Bearer ${await token()}` }));

      expect(fetch).toHaveBeenCalledTimes(1);
      expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe(`${ISSUER}/.well-known/jwks.json`);
    });

    it('refuses tokens as invalid_token when the JWKS cannot be fetched', async () => {
      vi.stubGlobal(
        'fetch',
        vi.fn(async () => new Response('nope', { status: 503 })),
      );
      const remote = verifierWith({ jwks: new URL(`${ISSUER}/.well-known/jwks.json`), revocations: false });

      await refused(remote(request({ authorization: `Bearer ${await token()}` })), 'invalid_token');
    });
  });

  describe('revocation list', () => {
    const LIST_URL = `${ISSUER}/oauth2/revocations`;
    const none: Revocations = { tokens: [], consumers: [] };
    /** A list server: each fetch answers with what `serve` returns at that moment; calls are counted. */
    const listServer = (serve: () => Promise<string | Response>) => {
      const fetch = vi.fn(async (url: URL) => {
        expect(String(url)).toBe(LIST_URL);
        const body = await serve();
        return typeof body === 'string' ? new Response(body, { headers: { 'content-type': 'application/jwt' } }) : body;
      });
      return fetch;
    };
    const signed = (revocations: Revocations, options: { key?: { kid: string; key: CryptoKey }; at?: Date } = {}) =>
      signRevocationList(options.key ?? gatehouse.key, ISSUER, revocations, options.at ?? clock.now());
    const withList = (fetch: ReturnType<typeof listServer>, extra: Record<string, unknown> = {}) =>
      verifierWith({ revocations: { url: new URL(LIST_URL), fetch, ...extra } });
    const bearer = async (t?: string) => request({ authorization: `Bearer ${t ?? (await token())}` });

    it('refuses a token whose jti is listed, and accepts the others', async () => {
      const revoked = await token();
      const fetch = listServer(async () => signed({ tokens: [{ jti: decodeJwt(revoked).jti!, exp: NOW_S + 300 }], consumers: [] }));
      const check = withList(fetch);

      const error = await refused(check(await bearer(revoked)), 'invalid_token');
      expect(error.message).toBe('The access token was revoked.');
      await expect(check(await bearer())).resolves.toMatchObject({ clientId: CLIENT_ID });
      expect(fetch).toHaveBeenCalledTimes(1);
    });

    it('refuses the tokens a listed client was issued at or before `since`, and accepts those issued after', async () => {
      const before = await token();
      const fetch = listServer(async () =>
        signed({ tokens: [], consumers: [{ clientId: CLIENT_ID, status: 'suspended', since: NOW_S, until: NOW_S + 4000 }] }),
      );
      const check = withList(fetch);

      await refused(check(await bearer(before)), 'invalid_token');
      clock.advance(1000);
      await expect(check(await bearer())).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('fetches the list again once it is refreshSeconds old, and applies what it now says', async () => {
      let revocations = none;
      const fetch = listServer(async () => signed(revocations));
      const check = withList(fetch, { refreshSeconds: 30 });
      const t = await token();
      await expect(check(await bearer(t))).resolves.toBeDefined();

      revocations = { tokens: [{ jti: decodeJwt(t).jti!, exp: NOW_S + 300 }], consumers: [] };
      clock.advance(29_000);
      await expect(check(await bearer(t))).resolves.toBeDefined();
      clock.advance(1_000);
      await refused(check(await bearer(t)), 'invalid_token');
      expect(fetch).toHaveBeenCalledTimes(2);
    });

    it('never adopts a list with a bad signature: without a good one, it fails closed (503)', async () => {
      const fetch = listServer(async () => signed(none, { key: impostor.key }));

      const error = await refused(withList(fetch)(await bearer()), 'temporarily_unavailable');
      expect(error.status).toBe(503);
    });

    it('never adopts a list with a bad signature over the good one it holds', async () => {
      const t = await token();
      let good = true;
      const fetch = listServer(async () =>
        good ? signed({ tokens: [{ jti: decodeJwt(t).jti!, exp: NOW_S + 300 }], consumers: [] }) : signed(none, { key: impostor.key }),
      );
      const check = withList(fetch);
      await refused(check(await bearer(t)), 'invalid_token');

      good = false;
      clock.advance(31_000);
      await refused(check(await bearer(t)), 'invalid_token');
      expect(fetch).toHaveBeenCalledTimes(2);
    });

    it('refuses a list of another type (an access token) or another issuer', async () => {
      for (const body of [await token(), await signRevocationList(gatehouse.key, 'https://other.bank.test', none, clock.now())]) {
        await refused(withList(listServer(async () => body))(await bearer()), 'temporarily_unavailable');
      }
    });

    it('keeps using the last good list while fetches fail, until it is maxStaleSeconds old, then fails closed', async () => {
      let up = true;
      const fetch = listServer(async () => (up ? signed(none) : new Response('down', { status: 503 })));
      const check = withList(fetch, { maxStaleSeconds: 120 });
      await expect(check(await bearer())).resolves.toBeDefined();

      up = false;
      clock.advance(119_000);
      await expect(check(await bearer())).resolves.toBeDefined();
      clock.advance(2_000);
      await refused(check(await bearer()), 'temporarily_unavailable');

      up = true;
      clock.advance(5_000);
      await expect(check(await bearer())).resolves.toBeDefined();
    });

    it('accepts tokens without a fresh list when told to (whenStale: accept), still refusing what the last list named', async () => {
      await expect(
        withList(
          listServer(async () => new Response('down', { status: 503 })),
          { whenStale: 'accept' },
        )(await bearer()),
      ).resolves.toBeDefined();

      const t = await token();
      let up = true;
      const fetch = listServer(async () =>
        up ? signed({ tokens: [{ jti: decodeJwt(t).jti!, exp: NOW_S + 900 }], consumers: [] }) : new Response('down', { status: 503 }),
      );
      const check = withList(fetch, { whenStale: 'accept', maxStaleSeconds: 60 });
      await refused(check(await bearer(t)), 'invalid_token');
      up = false;
      clock.advance(120_000);
      await refused(check(await bearer(t)), 'invalid_token');
      await expect(check(await bearer())).resolves.toBeDefined();
    });

    it('refuses an expired list however long the staleness limit, and never trades a newer list for an older one', async () => {
      const expired = await signed(none, { at: new Date(NOW.getTime() - 700_000) });
      await refused(
        withList(
          listServer(async () => expired),
          { maxStaleSeconds: 100_000 },
        )(await bearer()),
        'temporarily_unavailable',
      );

      const t = await token();
      const newer = await signed({ tokens: [{ jti: decodeJwt(t).jti!, exp: NOW_S + 300 }], consumers: [] });
      const older = await signed(none, { at: new Date(NOW.getTime() - 10_000) });
      let first = true;
      const check = withList(
        listServer(async () => {
          const body = first ? newer : older;
          first = false;
          return body;
        }),
      );
      await refused(check(await bearer(t)), 'invalid_token');
      clock.advance(31_000);
      await refused(check(await bearer(t)), 'invalid_token');
    });

    it('checks the list by default when the keys come from a URL, at ${issuer}/oauth2/revocations', async () => {
      const fetch = vi.fn(async (url: URL | string) =>
        String(url).endsWith('/jwks.json')
          ? new Response(JSON.stringify({ keys: [gatehouse.published] }), { headers: { 'content-type': 'application/json' } })
          : new Response(await signed({ tokens: [], consumers: [{ clientId: CLIENT_ID, status: 'revoked', since: NOW_S, until: NOW_S + 4000 }] })),
      );
      vi.stubGlobal('fetch', fetch);
      const remote = verifierWith({ jwks: new URL(`${ISSUER}/.well-known/jwks.json`) });

      await refused(remote(await bearer()), 'invalid_token');
      expect(fetch.mock.calls.map((c) => String(c[0]))).toContain(LIST_URL);
    });
  });

  describe('properties', () => {
    it('refuses every mutation of a valid bearer token with an AccessError', async () => {
      const valid = await token();
      await expect(verify(request({ authorization: `Bearer ${valid}` }))).resolves.toBeDefined();

      await fc.assert(
        fc.asyncProperty(jwtMutation, async (m) => {
          const mutated = mutate(valid, m);
          fc.pre(!sameJws(valid, mutated));

          await refused(verify(request({ authorization: `Bearer ${mutated}` })), 'invalid_token');
        }),
        { numRuns: 150 },
      );
    });

    it('refuses every mutation of a valid bound token, even with a matching proof, with an AccessError', async () => {
      const valid = await token({ jkt });

      await fc.assert(
        fc.asyncProperty(jwtMutation, async (m) => {
          const mutated = mutate(valid, m);
          fc.pre(!sameJws(valid, mutated));
          // A fresh verifier (fresh jti store) and a proof made for the mutated token: only the token is wrong.
          const fresh = verifierWith({ claimOnce: memoryOnce() });

          const error = await fresh(request({ authorization: `DPoP ${mutated}`, dpop: await proofFor(mutated) })).then(
            () => undefined,
            (e: unknown) => e,
          );

          expect(error).toBeInstanceOf(AccessError);
        }),
        { numRuns: 100 },
      );
    });

    it('refuses every mutation of a valid proof with invalid_dpop_proof', async () => {
      const t = await token({ jkt });
      const valid = await proofFor(t);
      await expect(verifierWith({ claimOnce: memoryOnce() })(request({ authorization: `DPoP ${t}`, dpop: valid }))).resolves.toBeDefined();

      await fc.assert(
        fc.asyncProperty(jwtMutation, async (m) => {
          const mutated = mutate(valid, m);
          fc.pre(!sameJws(valid, mutated));

          await refused(verifierWith({ claimOnce: memoryOnce() })(request({ authorization: `DPoP ${t}`, dpop: mutated })), 'invalid_dpop_proof');
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe('memoryOnce', () => {
  const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

  it('claims a marker once until it expires', async () => {
    const once = memoryOnce();

    await expect(once('m', NOW_S + 10, at(0))).resolves.toBe(true);
    await expect(once('m', NOW_S + 10, at(10))).resolves.toBe(false);
    await expect(once('m', NOW_S + 20, at(11))).resolves.toBe(true);
  });

  it('keeps markers apart', async () => {
    const once = memoryOnce();

    await expect(once('a', NOW_S + 10, at(0))).resolves.toBe(true);
    await expect(once('b', NOW_S + 10, at(0))).resolves.toBe(true);
  });

  it('makes room by dropping expired markers when full', async () => {
    const once = memoryOnce(2);
    await once('old', NOW_S + 1, at(0));
    await once('live', NOW_S + 100, at(0));

    await expect(once('new', NOW_S + 100, at(5))).resolves.toBe(true);

    await expect(once('live', NOW_S + 100, at(5))).resolves.toBe(false);
    await expect(once('new', NOW_S + 100, at(5))).resolves.toBe(false);
  });

  // A one-time store fails closed: while full of live markers it refuses new claims instead of forgetting one.
  it('never accepts an unexpired marker twice, even when full', async () => {
    const once = memoryOnce(2);
    await once('victim', NOW_S + 100, at(0));
    await once('filler-1', NOW_S + 100, at(0));
    await once('filler-2', NOW_S + 100, at(1));

    await expect(once('victim', NOW_S + 100, at(2))).resolves.toBe(false);
  });
});
