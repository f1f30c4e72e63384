import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../../../lambdas/core/ports.js';
import { Es256Signer } from '../../../../lambdas/core/tokens/es256-signer.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken, type AccessTokenClaims } from '../../../../lambdas/core/tokens/mint.js';
import { SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { NOW, TestClock } from '../../fixtures.js';
import { vaultOver } from '../../../../lambdas/core/tokens/public-keys.js';

let signing: SigningKey;
let cache: SigningKeyCache;
let jwks: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  signing = await generateSigningKey();
  cache = new SigningKeyCache(
    vaultOver(async () => ({ current: signing, published: [] })),
    new TestClock(),
  );
  jwks = createLocalJWKSet(await cache.jwks());
});

/** How access tokens were signed before node:crypto: jose's SignJWT over WebCrypto, with the same claims and jti. */
async function signedByJose(key: { kid: string; key: CryptoKey }, claims: AccessTokenClaims, jti: string): Promise<string> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  const body = { ...claims.extra, client_id: claims.clientId, scope: claims.scopes.join(' '), ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}) };
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid })
    .setIssuer(claims.issuer)
    .setSubject(claims.clientId)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .setJti(jti)
    .sign(key.key);
}

const claims: AccessTokenClaims = {
  issuer: 'https://gatehouse.test',
  audience: 'https://api.bank.test',
  clientId: 'gh_x',
  scopes: ['a:read', 'b:read'],
  ttlSeconds: 300,
  now: NOW,
  extra: { tier: 'partner', risk: 'high' },
  jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
};

describe('mintAccessToken on node:crypto', () => {
  it('signs a token that verifies against the published JWKS, with the header and claims jose wrote', async () => {
    const key = await cache.current();

    const minted = await mintAccessToken(key, claims);

    const { payload, protectedHeader } = await jwtVerify(minted.token, jwks, {
      issuer: claims.issuer,
      audience: claims.audience,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: NOW,
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: signing.kid });
    const iat = Math.floor(NOW.getTime() / 1000);
    expect(payload).toEqual({
      iss: claims.issuer,
      aud: claims.audience,
      sub: 'gh_x',
      client_id: 'gh_x',
      scope: 'a:read b:read',
      tier: 'partner',
      risk: 'high',
      cnf: { jkt: claims.jkt },
      iat,
      exp: iat + 300,
      jti: minted.jti,
    });
    // Header and payload are the very bytes jose's SignJWT produced for the same token; only the (randomized) signature differs.
    const before = await signedByJose(key, claims, minted.jti);
    expect(minted.token.split('.').slice(0, 2)).toEqual(before.split('.').slice(0, 2));
  });

  it('signs with the key it is given, also when the cache hands out another one after a rotation', async () => {
    const next = await generateSigningKey();
    const nextKey = (await importJWK(next.privateJwk as JWK, 'ES256')) as CryptoKey;

    const first = await mintAccessToken(await cache.current(), claims);
    const second = await mintAccessToken({ kid: next.kid, key: nextKey }, claims);

    expect(decodeProtectedHeader(first.token).kid).toBe(signing.kid);
    expect(decodeProtectedHeader(second.token).kid).toBe(next.kid);
    await expect(jwtVerify(second.token, await importJWK(next.publicJwk as JWK, 'ES256'), { currentDate: NOW })).resolves.toBeDefined();
    await expect(jwtVerify(second.token, jwks, { currentDate: NOW })).rejects.toThrow();
  });

  it('refuses a lifetime that would serialize as a null expiry', async () => {
    await expect(mintAccessToken(await cache.current(), { ...claims, ttlSeconds: Number.NaN })).rejects.toThrow(TypeError);
  });

  it('always signs tokens that verify and carry exactly the claims given', async () => {
    const key = await cache.current();
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const arbitraryClaims = fc.record({
      issuer: text,
      audience: text,
      clientId: text,
      scopes: fc.array(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }), { maxLength: 6 }),
      ttlSeconds: fc.integer({ min: 1, max: 86_400 }),
      now: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
      // Extra claims are the consumer's descriptors; `nbf` would be read as a registered claim by any verifier. Names of
      // registered claims (and `__proto__`) are mixed in to show they never override the registered values.
      extra: fc.dictionary(
        fc.oneof(
          text.filter((k) => k !== 'nbf'),
          fc.constantFrom('iss', 'sub', 'client_id', 'cnf', 'jti', '__proto__'),
        ),
        text,
        { maxKeys: 4 },
      ),
      jkt: fc.option(fc.base64String({ minLength: 4, maxLength: 44 }), { nil: undefined }),
    });

    await fc.assert(
      fc.asyncProperty(arbitraryClaims, async ({ jkt, ...c }) => {
        const given: AccessTokenClaims = { ...c, ...(jkt ? { jkt } : {}) };

        const minted = await mintAccessToken(key, given);

        const { payload, protectedHeader } = await jwtVerify(minted.token, jwks, { algorithms: ['ES256'], currentDate: given.now });
        expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: signing.kid });
        const iat = Math.floor(given.now.getTime() / 1000);
        // The claims spread into one object (as the token was built before): equal as claims, and byte for byte as JSON,
        // member order included.
        const spread = {
          ...given.extra,
          client_id: given.clientId,
          scope: given.scopes.join(' '),
          ...(jkt ? { cnf: { jkt } } : {}),
          iss: given.issuer,
          sub: given.clientId,
          aud: given.audience,
          iat,
          exp: iat + given.ttlSeconds,
          jti: minted.jti,
        };
        expect(payload).toEqual(spread);
        expect(Buffer.from(minted.token.split('.')[1]!, 'base64url').toString('utf8')).toBe(JSON.stringify(spread));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Es256Signer', () => {
  it('signs any JSON payload so that jose verifies it with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = new Es256Signer('k1', privateKey);

    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }), fc.object(), async (typ, payload) => {
        const jws = await signer.sign(typ, payload);

        const { payload: bytes, protectedHeader } = await compactVerify(jws, publicKey, { algorithms: ['ES256'] });
        expect(protectedHeader).toEqual({ alg: 'ES256', typ, kid: 'k1' });
        expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual(JSON.parse(JSON.stringify(payload)));
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a P-384 key', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519').privateKey],
    ['a public key', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
  ])('refuses %s', (_name, key) => {
    expect(() => new Es256Signer('k1', key())).toThrow(TypeError);
  });

  it('accepts the private JWK the vault stores, imported by node:crypto', async () => {
    const signer = new Es256Signer(signing.kid, createPrivateKey({ key: signing.privateJwk as JWK & { kty: 'EC' }, format: 'jwk' }));

    await expect(jwtVerify(await signer.sign('at+jwt', { sub: 'x' }), jwks)).resolves.toMatchObject({ payload: { sub: 'x' } });
  });
});
