import { jwtVerify, SignJWT, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { SigningKey, SigningKeySet } from '../../../../lambdas/core/ports.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { SIGNING_ALG, SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { TestClock } from '../../fixtures.js';

let a: SigningKey;
let b: SigningKey;
let c: SigningKey;

beforeAll(async () => {
  [a, b, c] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

function vaultOf(...sets: SigningKeySet[]) {
  const queue = [...sets];
  return { getSigningKeys: vi.fn(async () => (queue.length > 1 ? queue.shift()! : queue[0]!)) };
}

describe('SigningKeyCache', () => {
  it('reads the vault once while the keys are fresh, even for concurrent callers', async () => {
    const vault = vaultOf({ current: a, published: [] });
    const clock = new TestClock();
    const cache = new SigningKeyCache(vault, clock, 60_000);

    await Promise.all([cache.current(), cache.current(), cache.jwks()]);
    clock.advance(59_999);
    await cache.current();

    expect(vault.getSigningKeys).toHaveBeenCalledTimes(1);
  });

  it('returns a key that signs tokens the current public key verifies', async () => {
    const cache = new SigningKeyCache(vaultOf({ current: a, published: [] }), new TestClock());

    const { kid, key } = await cache.current();
    const jwt = await new SignJWT({ x: 1 }).setProtectedHeader({ alg: SIGNING_ALG, kid }).sign(key);

    expect(kid).toBe(a.kid);
    await expect(jwtVerify(jwt, await importJWK(a.publicJwk as JWK, SIGNING_ALG))).resolves.toMatchObject({ payload: { x: 1 } });
  });

  it('picks up a rotation after the maximum age', async () => {
    const vault = vaultOf({ current: a, published: [] }, { current: b, published: [a] });
    const clock = new TestClock();
    const cache = new SigningKeyCache(vault, clock, 60_000);

    expect((await cache.current()).kid).toBe(a.kid);
    clock.advance(60_000);

    expect((await cache.current()).kid).toBe(b.kid);
    expect(vault.getSigningKeys).toHaveBeenCalledTimes(2);
  });

  it('retries the vault after a failed read', async () => {
    const vault = vaultOf({ current: a, published: [] });
    vault.getSigningKeys.mockRejectedValueOnce(new Error('vault down'));
    const cache = new SigningKeyCache(vault, new TestClock());

    await expect(cache.current()).rejects.toThrow('vault down');
    await expect(cache.current()).resolves.toMatchObject({ kid: a.kid });
  });

  it('publishes the current and every published key once, public members only', async () => {
    const cache = new SigningKeyCache(vaultOf({ current: a, published: [b, a, c, b] }), new TestClock());

    const { keys } = await cache.jwks();

    expect(keys.map((k) => k.kid)).toEqual([a.kid, b.kid, c.kid]);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });
});
