import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertedClientId, ASYMMETRIC_ALGS, CLIENT_ASSERTION_TYPE, verifyClientAssertion } from '../../../../lambdas/core/oauth/client-assertion.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { CLIENT_ID, NOW } from '../../fixtures.js';
import { ISSUER } from '../../handlers/fixtures.js';
import { jwtMutation, mutate, sameJws } from '../../jwt-mutations.js';
import {
  assertionClaims,
  CLIENT_ALGS,
  clientKey,
  hmacJwt,
  MemoryRegistry,
  NOW_S,
  publicKeyBytes,
  signAssertion,
  TOKEN_ENDPOINT,
  unsignedJwt,
  type ClientAlg,
  type ClientKey,
} from './fixtures.js';

const AUDIENCES = [ISSUER, TOKEN_ENDPOINT];

describe('verifyClientAssertion', () => {
  const keys = {} as Record<ClientAlg, ClientKey>;
  let stranger: ClientKey;

  beforeAll(async () => {
    for (const alg of CLIENT_ALGS) keys[alg] = await clientKey(alg);
    stranger = await clientKey('ES256', keys.ES256.kid);
  });

  const jwksOf = (...ks: ClientKey[]) => ({ keys: ks.map((k) => ({ ...k.registered })) });
  const verify = (
    assertion: string,
    registry = new MemoryRegistry(),
    options: { now?: Date; jwks?: ReturnType<typeof jwksOf>; maxLifetimeSeconds?: number } = {},
  ) =>
    verifyClientAssertion(assertion, {
      clientId: CLIENT_ID,
      jwks: options.jwks ?? jwksOf(keys.ES256, keys.PS256, keys.Ed25519, keys.EdDSA),
      audiences: AUDIENCES,
      now: options.now ?? NOW,
      markers: registry.markerPort,
      maxLifetimeSeconds: options.maxLifetimeSeconds ?? 300,
    });

  /** Verifies and expects an invalid_client refusal that claimed no jti. */
  async function refused(assertion: string, registry = new MemoryRegistry()): Promise<OAuthError> {
    const error = await verify(assertion, registry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe('invalid_client');
    expect(registry.markers.size).toBe(0);
    return error as OAuthError;
  }

  describe('accepted assertions', () => {
    it.each(CLIENT_ALGS)('accepts an assertion signed with a registered %s key', async (alg) => {
      await expect(verify(await signAssertion(keys[alg]))).resolves.toBeUndefined();
    });

    it.each([
      ['the issuer', ISSUER],
      ['the endpoint URL', TOKEN_ENDPOINT],
      ['an array holding the issuer', [ISSUER]],
    ])('accepts an audience of %s', async (_name, aud) => {
      await expect(verify(await signAssertion(keys.ES256, { aud }))).resolves.toBeUndefined();
    });

    it('claims the jti for this client until the assertion expires, plus the skew', async () => {
      const registry = new MemoryRegistry();

      await verify(await signAssertion(keys.ES256, { jti: 'jti-1', exp: NOW_S + 120 }), registry);

      expect([...registry.markers]).toEqual([[`assertion:${CLIENT_ID}:jti-1`, NOW_S + 120 + 60]]);
    });

    it('accepts a lifetime of exactly 300 seconds', async () => {
      await expect(verify(await signAssertion(keys.ES256, { exp: NOW_S + 300 }))).resolves.toBeUndefined();
    });

    it('accepts an assertion without iat whose exp is within lifetime plus skew', async () => {
      await expect(verify(await signAssertion(keys.ES256, { iat: undefined, exp: NOW_S + 360 }))).resolves.toBeUndefined();
    });

    it('tolerates 60 seconds of clock skew on iat and exp', async () => {
      await expect(verify(await signAssertion(keys.ES256, { iat: NOW_S + 60, exp: NOW_S + 120 }))).resolves.toBeUndefined();
      await expect(verify(await signAssertion(keys.ES256, { iat: NOW_S - 100, exp: NOW_S - 59 }))).resolves.toBeUndefined();
    });

    it('finds the key without a kid when one registered key fits the algorithm', async () => {
      await expect(
        verify(await signAssertion(keys.EdDSA, {}, { kid: undefined }), undefined, { jwks: jwksOf(keys.ES256, keys.EdDSA) }),
      ).resolves.toBeUndefined();
    });

    it.each([
      ['Ed25519', 'EdDSA'],
      ['EdDSA', 'Ed25519'],
    ] as const)('accepts an assertion signed as %s by an Ed25519 key registered under alg %s', async (signedAs, registeredAs) => {
      const key = keys[registeredAs];

      await expect(verify(await signAssertion({ ...key, alg: signedAs }), undefined, { jwks: jwksOf(keys.ES256, key) })).resolves.toBeUndefined();
    });

    it('only allows ES256, PS256 and Ed25519 (under its RFC 9864 name and as EdDSA)', () => {
      expect([...ASYMMETRIC_ALGS]).toEqual(['ES256', 'PS256', 'Ed25519', 'EdDSA']);
      expect(CLIENT_ASSERTION_TYPE).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    });
  });

  describe('refused assertions', () => {
    it('refuses a replayed jti', async () => {
      const registry = new MemoryRegistry();
      const assertion = await signAssertion(keys.ES256);
      await verify(assertion, registry);

      const error = await verify(assertion, registry).catch((e: unknown) => e as OAuthError);

      expect(error).toMatchObject({ code: 'invalid_client', message: expect.stringContaining('jti replay') });
      expect(registry.markers.size).toBe(1);
    });

    it('refuses a second assertion that reuses a jti, even with other claims', async () => {
      const registry = new MemoryRegistry();
      await verify(await signAssertion(keys.ES256, { jti: 'same' }), registry);

      await expect(verify(await signAssertion(keys.PS256, { jti: 'same', exp: NOW_S + 90 }), registry)).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it('accepts a jti again once its marker has expired', async () => {
      const registry = new MemoryRegistry();
      await verify(await signAssertion(keys.ES256, { jti: 'old' }), registry);

      const later = new Date(NOW.getTime() + 10 * 60_000);
      const again = await signAssertion(keys.ES256, { jti: 'old', iat: NOW_S + 600, exp: NOW_S + 660 });

      await expect(verify(again, registry, { now: later })).resolves.toBeUndefined();
    });

    it('refuses an assertion addressed to another server', async () => {
      const error = await refused(await signAssertion(keys.ES256, { aud: 'https://other-as.example' }));

      expect(error.message).toContain('"aud"');
    });

    it('refuses an assertion addressed to another endpoint of this server', async () => {
      await refused(await signAssertion(keys.ES256, { aud: `${ISSUER}/oauth2/introspect` }));
    });

    it('refuses an assertion without aud', async () => {
      await refused(await signAssertion(keys.ES256, { aud: undefined }));
    });

    it('refuses an expired assertion', async () => {
      const error = await refused(await signAssertion(keys.ES256, { iat: NOW_S - 200, exp: NOW_S - 61 }));

      expect(error.message).toContain('expired');
    });

    it('refuses an assertion without exp', async () => {
      await refused(await signAssertion(keys.ES256, { exp: undefined }));
    });

    it('refuses an assertion issued far in the future', async () => {
      await refused(await signAssertion(keys.ES256, { iat: NOW_S + 3600, exp: NOW_S + 3660 }));
    });

    it('refuses an iat more than 60 seconds ahead even with a short lifetime', async () => {
      const error = await refused(await signAssertion(keys.ES256, { iat: NOW_S + 61, exp: NOW_S + 120 }));

      expect(error.message).toContain('future');
    });

    it('refuses an nbf more than 60 seconds ahead', async () => {
      await refused(await signAssertion(keys.ES256, { nbf: NOW_S + 61, exp: NOW_S + 120 }));
    });

    it.each([
      ['exp - iat of 301 seconds', { iat: NOW_S, exp: NOW_S + 301 }, 301],
      ['an exp an hour away and no iat', { iat: undefined, exp: NOW_S + 3600 }, 3600],
      ['an exp 361 seconds away and no iat', { iat: undefined, exp: NOW_S + 361 }, 361],
      ['an iat in the past and a long exp', { iat: NOW_S - 250, exp: NOW_S + 60 }, 310],
    ])('refuses a lifetime over 5 minutes, saying how long it was: %s', async (_name, changes, lifetime) => {
      const error = await refused(await signAssertion(keys.ES256, changes));

      expect(error.message).toBe(`Client assertions may live at most 300 seconds; this one lives ${lifetime} seconds.`);
    });

    it('takes the longest lifetime from its caller (the policy), accepting a 1-hour assertion when allowed', async () => {
      const hour = await signAssertion(keys.ES256, { iat: NOW_S, exp: NOW_S + 3600 });
      await expect(verify(hour, new MemoryRegistry(), { maxLifetimeSeconds: 3600 })).resolves.toBeUndefined();

      const registry = new MemoryRegistry();
      const error = await verify(await signAssertion(keys.ES256, { iat: NOW_S, exp: NOW_S + 121 }), registry, { maxLifetimeSeconds: 120 }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client assertions may live at most 120 seconds; this one lives 121 seconds.' });
      expect(registry.markers.size).toBe(0);
    });

    it('refuses an unsigned assertion (alg none)', async () => {
      const error = await refused(unsignedJwt(assertionClaims(), { kid: keys.ES256.kid }));

      expect(error.message).toContain('ES256, PS256, Ed25519, EdDSA');
    });

    it.each(['jwk', 'spki'] as const)('refuses HS256 keyed with the registered public key (%s bytes): alg confusion', async (form) => {
      for (const alg of CLIENT_ALGS) {
        const forged = await hmacJwt(await publicKeyBytes(keys[alg], form), assertionClaims(), { kid: keys[alg].kid });
        await refused(forged);
      }
    });

    it.each(['RS256', 'ES384', 'HS256', 'none', undefined])('refuses a header alg of %s before looking for a key', async (alg) => {
      const signed = await signAssertion(keys.ES256);
      const [, payload, signature] = signed.split('.');
      const header = Buffer.from(JSON.stringify({ alg, kid: keys.ES256.kid })).toString('base64url');

      await refused(`${header}.${payload}.${signature}`);
    });

    it('refuses an unknown kid', async () => {
      const error = await refused(await signAssertion(keys.ES256, {}, { kid: 'not-registered' }));

      expect(error.message).toContain('no registered key');
    });

    it('refuses an assertion signed by an unregistered key under a registered kid', async () => {
      const error = await refused(await signAssertion(stranger));

      expect(error.message).toContain('signature');
    });

    it('refuses an assertion when the client registered no key of its algorithm', async () => {
      const registry = new MemoryRegistry();
      const error = await verify(await signAssertion(keys.PS256, {}, { kid: undefined }), registry, { jwks: jwksOf(keys.ES256) }).catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'invalid_client' });
      expect(registry.markers.size).toBe(0);
    });

    it('refuses an Ed25519 assertion whose kid names a key of another type', async () => {
      const registry = new MemoryRegistry();
      const error = await verify(await signAssertion(keys.Ed25519, {}, { kid: keys.ES256.kid }), registry).catch((e: unknown) => e);

      expect(error).toMatchObject({ code: 'invalid_client', message: expect.stringContaining('no registered key') });
      expect(registry.markers.size).toBe(0);
    });

    it.each([
      ['an iss of another client', { iss: 'gh_someoneelse000000' }],
      ['a sub of another client', { sub: 'gh_someoneelse000000' }],
      ['no sub', { sub: undefined }],
      ['no iss', { iss: undefined }],
      ['no jti', { jti: undefined }],
      ['an empty jti', { jti: '' }],
      ['a jti over 200 characters', { jti: 'j'.repeat(201) }],
      ['a numeric jti', { jti: 42 }],
      ['an object jti', { jti: { id: 'x' } }],
      ['a list jti', { jti: ['a'] }],
    ])('refuses an assertion with %s', async (_name, changes) => {
      await refused(await signAssertion(keys.ES256, changes));
    });

    it.each([
      ['not a JWT', 'not-a-jwt'],
      ['an empty string', ''],
      ['a JWE-shaped string', 'a.b.c.d.e'],
    ])('refuses %s', async (_name, text) => {
      await refused(text);
    });
  });

  describe('properties', () => {
    it.each(CLIENT_ALGS)('refuses every mutation of a valid %s assertion as invalid_client', async (alg) => {
      const valid = await signAssertion(keys[alg]);
      // The unmutated assertion verifies with a fresh store: a refusal below is due to the mutation, not to replay.
      await expect(verify(valid)).resolves.toBeUndefined();

      await fc.assert(
        fc.asyncProperty(jwtMutation, async (m) => {
          const mutated = mutate(valid, m);
          fc.pre(!sameJws(valid, mutated));
          const registry = new MemoryRegistry();

          const error = await verify(mutated, registry).then(
            () => undefined,
            (e: unknown) => e,
          );

          expect(error).toBeInstanceOf(OAuthError);
          expect((error as OAuthError).code).toBe('invalid_client');
          expect(registry.markers.size).toBe(0);
        }),
        { numRuns: 120 },
      );
    });
  });
});

describe('assertedClientId', () => {
  it('reads the issuer without verifying anything', async () => {
    const key = await clientKey('ES256');

    expect(assertedClientId(await signAssertion(key, { iss: 'gh_whoever' }))).toBe('gh_whoever');
  });

  it.each([
    ['is not a JWT', 'garbage'],
    ['has no iss', unsignedJwt({ sub: CLIENT_ID })],
    ['has a non-string iss', unsignedJwt({ iss: 42 })],
    ['has an empty iss', unsignedJwt({ iss: '' })],
    ['has an iss over 200 characters', unsignedJwt({ iss: 'x'.repeat(201) })],
  ])('refuses an assertion that %s as invalid_client', (_name, assertion) => {
    let error: unknown;
    try {
      assertedClientId(assertion);
    } catch (e) {
      error = e;
    }

    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ code: 'invalid_client' });
  });
});
