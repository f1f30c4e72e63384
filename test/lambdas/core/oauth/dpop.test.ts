import fc from 'fast-check';
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { normaliseHtu, verifyDpopProof, type DpopCheck } from '../../../../lambdas/core/oauth/dpop.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { sha256B64u } from '../../../../lambdas/core/util/hash.js';
import { NOW } from '../../fixtures.js';
import { jwtMutation, mutate, sameJws } from '../../jwt-mutations.js';
import {
  CLIENT_ALGS,
  clientKey,
  hmacJwt,
  MemoryRegistry,
  NOW_S,
  proofClaims,
  publicKeyBytes,
  signProof,
  TOKEN_ENDPOINT,
  unsignedJwt,
  type ClientAlg,
  type ClientKey,
} from './fixtures.js';

const API_URL = 'https://api.bank.test/v1/accounts';
const ACCESS_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe('verifyDpopProof', () => {
  const keys = {} as Record<ClientAlg, ClientKey>;
  let other: ClientKey;

  beforeAll(async () => {
    for (const alg of CLIENT_ALGS) keys[alg] = await clientKey(alg);
    other = await clientKey('ES256', 'other');
  });

  /** A check for POST to the token endpoint at NOW with a fresh one-time store. */
  const check = (changes: Partial<DpopCheck> = {}): DpopCheck & { claimOnce: ReturnType<typeof vi.fn<DpopCheck['claimOnce']>> } => {
    const store = new MemoryRegistry();
    return {
      method: 'POST',
      url: TOKEN_ENDPOINT,
      now: NOW,
      ...changes,
      claimOnce: vi.fn<DpopCheck['claimOnce']>((marker, exp, now) => store.claimOnce(marker, exp, now)),
    };
  };

  /** Verifies and expects an invalid_dpop_proof refusal that claimed no jti. */
  async function refused(proof: string, changes: Partial<DpopCheck> = {}): Promise<OAuthError> {
    const c = check(changes);
    const error = await verifyDpopProof(proof, c).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_dpop_proof' });
    expect(c.claimOnce).not.toHaveBeenCalled();
    return error as OAuthError;
  }

  describe('accepted proofs', () => {
    it.each(CLIENT_ALGS)('returns the RFC 7638 thumbprint of the %s key in the header', async (alg) => {
      const jkt = await verifyDpopProof(await signProof(keys[alg]), check());

      expect(jkt).toBe(await calculateJwkThumbprint(keys[alg].jwk, 'sha256'));
    });

    it('binds an Ed25519 key to one thumbprint whether the proof names its alg Ed25519 (RFC 9864) or EdDSA', async () => {
      const asEd25519 = await verifyDpopProof(await signProof(keys.Ed25519), check());
      const asEdDsa = await verifyDpopProof(await signProof({ ...keys.Ed25519, alg: 'EdDSA' }), check());

      expect(asEd25519).toBe(await calculateJwkThumbprint(keys.Ed25519.jwk, 'sha256'));
      expect(asEdDsa).toBe(asEd25519);
    });

    it('claims the jti under the key thumbprint until two iat windows have passed', async () => {
      const c = check();

      const jkt = await verifyDpopProof(await signProof(keys.ES256, { jti: 'proof-1', iat: NOW_S - 10 }), c);

      expect(c.claimOnce).toHaveBeenCalledExactlyOnceWith(`dpop:${jkt}:proof-1`, NOW_S - 10 + 120, NOW);
    });

    it('ignores the query and fragment of htu and of the request URI', async () => {
      const proof = await signProof(keys.ES256, { htu: `${TOKEN_ENDPOINT}?a=1#frag` });

      await expect(verifyDpopProof(proof, check({ url: `${TOKEN_ENDPOINT}?b=2` }))).resolves.toEqual(expect.any(String));
    });

    it('compares scheme and host case-insensitively and drops the default port', async () => {
      const proof = await signProof(keys.ES256, { htu: 'HTTPS://GATEHOUSE.TEST:443/oauth2/token' });

      await expect(verifyDpopProof(proof, check())).resolves.toEqual(expect.any(String));
    });

    it('accepts an iat exactly 60 seconds from now either way', async () => {
      await expect(verifyDpopProof(await signProof(keys.ES256, { iat: NOW_S - 60 }), check())).resolves.toBeDefined();
      await expect(verifyDpopProof(await signProof(keys.ES256, { iat: NOW_S + 60 }), check())).resolves.toBeDefined();
    });

    it('checks ath and the bound key when a token is presented', async () => {
      const jkt = await calculateJwkThumbprint(keys.PS256.jwk);
      const proof = await signProof(keys.PS256, { htm: 'GET', htu: API_URL, ath: sha256B64u(ACCESS_TOKEN) });

      await expect(verifyDpopProof(proof, check({ method: 'GET', url: API_URL, accessToken: ACCESS_TOKEN, expectedJkt: jkt }))).resolves.toBe(jkt);
    });
  });

  describe('refused proofs', () => {
    it('refuses a proof for another htu', async () => {
      const error = await refused(await signProof(keys.ES256, { htu: 'https://gatehouse.test/oauth2/introspect' }));

      expect(error.message).toContain('htu');
    });

    it.each([
      ['another host', 'https://evil.example/oauth2/token'],
      ['http instead of https', 'http://gatehouse.test/oauth2/token'],
      ['another port', 'https://gatehouse.test:8443/oauth2/token'],
      ['a trailing slash', 'https://gatehouse.test/oauth2/token/'],
      ['a path prefix only', 'https://gatehouse.test/oauth2'],
    ])('refuses an htu with %s', async (_name, htu) => {
      await refused(await signProof(keys.ES256, { htu }));
    });

    it.each([42, 'not a uri', ''])('refuses an htu that is not a URI: %j', async (htu) => {
      await refused(await signProof(keys.ES256, { htu }));
    });

    it.each(['GET', 'post', 'PUT'])('refuses a proof for another htm: %s', async (htm) => {
      const error = await refused(await signProof(keys.ES256, { htm }));

      expect(error.message).toContain('htm');
    });

    it('refuses a replayed jti', async () => {
      const c = check();
      const proof = await signProof(keys.ES256);
      await verifyDpopProof(proof, c);

      await expect(verifyDpopProof(proof, c)).rejects.toMatchObject({ code: 'invalid_dpop_proof', message: expect.stringContaining('already used') });
    });

    it('refuses a jti reused in a new proof by the same key', async () => {
      const c = check();
      await verifyDpopProof(await signProof(keys.EdDSA, { jti: 'j' }), c);

      await expect(verifyDpopProof(await signProof(keys.EdDSA, { jti: 'j', iat: NOW_S - 5 }), c)).rejects.toMatchObject({ code: 'invalid_dpop_proof' });
    });

    it('refuses a jti reused by the same Ed25519 key under its other alg name', async () => {
      const c = check();
      await verifyDpopProof(await signProof(keys.Ed25519, { jti: 'j' }), c);

      await expect(verifyDpopProof(await signProof({ ...keys.Ed25519, alg: 'EdDSA' }, { jti: 'j' }), c)).rejects.toMatchObject({
        code: 'invalid_dpop_proof',
        message: expect.stringContaining('already used'),
      });
    });

    it.each([
      ['61 seconds old', NOW_S - 61],
      ['an hour old', NOW_S - 3600],
      ['61 seconds ahead', NOW_S + 61],
    ])('refuses a stale or future iat: %s', async (_name, iat) => {
      const error = await refused(await signProof(keys.ES256, { iat }));

      expect(error.message).toContain('iat');
    });

    it('refuses a proof whose ath does not match the presented token', async () => {
      const proof = await signProof(keys.ES256, { ath: sha256B64u('another-token') });

      const error = await refused(proof, { accessToken: ACCESS_TOKEN });

      expect(error.message).toContain('ath');
    });

    it('refuses a proof without ath when a token is presented', async () => {
      await refused(await signProof(keys.ES256), { accessToken: ACCESS_TOKEN });
    });

    it('refuses a proof signed by another key than the token is bound to', async () => {
      const boundTo = await calculateJwkThumbprint(keys.ES256.jwk);

      const error = await refused(await signProof(other), { expectedJkt: boundTo });

      expect(error.message).toContain('bound');
    });

    it('refuses a proof whose signature is not by the key in its header', async () => {
      const proof = await new SignJWT(proofClaims()).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: keys.ES256.jwk }).sign(other.privateKey);

      await refused(proof);
    });

    it.each([
      ['typ JWT', { typ: 'JWT' }],
      ['no typ', { typ: undefined }],
      ['no jwk', { jwk: undefined }],
      ['a jwk that is a string', { jwk: 'key' }],
    ])('refuses a proof with %s', async (_name, header) => {
      await refused(await signProof(keys.ES256, {}, header));
    });

    it('refuses a private key in the header', async () => {
      const privateJwk = await exportJWK(keys.ES256.privateKey);

      const error = await refused(await signProof(keys.ES256, {}, { jwk: privateJwk }));

      expect(error.message).toContain('public key');
    });

    it('refuses an unsigned proof (alg none)', async () => {
      await refused(unsignedJwt(proofClaims(), { typ: 'dpop+jwt', jwk: keys.ES256.jwk }));
    });

    it('refuses HS256 keyed with the header key’s public bytes (alg confusion)', async () => {
      const forged = await hmacJwt(await publicKeyBytes(keys.ES256, 'jwk'), proofClaims(), { typ: 'dpop+jwt', jwk: keys.ES256.jwk });

      await refused(forged);
    });

    it('refuses a symmetric jwk in the header', async () => {
      const secret = new Uint8Array(32).fill(7);
      const forged = await hmacJwt(secret, proofClaims(), { typ: 'dpop+jwt', jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } });

      await refused(forged);
    });

    it.each(['jti', 'htm', 'htu', 'iat'])('refuses a proof without %s', async (claim) => {
      await refused(await signProof(keys.ES256, { [claim]: undefined }));
    });

    it.each([
      ['an empty jti', ''],
      ['a jti over 200 characters', 'j'.repeat(201)],
      ['a numeric jti', 42],
      ['an object jti', { id: 'x' }],
      ['a list jti', ['a']],
    ])('refuses %s', async (_name, jti: unknown) => {
      await refused(await signProof(keys.ES256, { jti }));
    });

    it('refuses an expired proof that carries exp', async () => {
      await refused(await signProof(keys.ES256, { exp: NOW_S - 1 }));
    });

    it.each(['garbage', '', 'a.b.c'])('refuses %j as not a JWT', async (proof) => {
      await refused(proof);
    });
  });

  describe('properties', () => {
    it.each(CLIENT_ALGS)('refuses every mutation of a valid %s proof as invalid_dpop_proof', async (alg) => {
      const valid = await signProof(keys[alg], { htm: 'GET', htu: API_URL, ath: sha256B64u(ACCESS_TOKEN) });
      const jkt = await calculateJwkThumbprint(keys[alg].jwk);
      const bound = { method: 'GET', url: API_URL, accessToken: ACCESS_TOKEN, expectedJkt: jkt };
      // The unmutated proof verifies with a fresh store: a refusal below is due to the mutation, not to replay.
      await expect(verifyDpopProof(valid, check(bound))).resolves.toBe(jkt);

      await fc.assert(
        fc.asyncProperty(jwtMutation, async (m) => {
          const mutated = mutate(valid, m);
          fc.pre(!sameJws(valid, mutated));
          const c = check(bound);

          const error = await verifyDpopProof(mutated, c).then(
            () => undefined,
            (e: unknown) => e,
          );

          expect(error).toBeInstanceOf(OAuthError);
          expect((error as OAuthError).code).toBe('invalid_dpop_proof');
          expect(c.claimOnce).not.toHaveBeenCalled();
        }),
        { numRuns: 120 },
      );
    });
  });
});

describe('normaliseHtu', () => {
  it.each([
    ['HTTPS://Gatehouse.TEST/oauth2/token', 'https://gatehouse.test/oauth2/token'],
    ['https://gatehouse.test:443/oauth2/token', 'https://gatehouse.test/oauth2/token'],
    ['http://gatehouse.test:80/x', 'http://gatehouse.test/x'],
    ['https://gatehouse.test:8443/x', 'https://gatehouse.test:8443/x'],
    ['https://gatehouse.test/oauth2/token?x=1#top', 'https://gatehouse.test/oauth2/token'],
    ['https://gatehouse.test', 'https://gatehouse.test/'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normaliseHtu(input)).toBe(expected);
  });

  it('throws on a value that is not a URI', () => {
    expect(() => normaliseHtu('/relative/path')).toThrow(TypeError);
  });
});
