import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, SignJWT, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FileVault } from '../../../../lambdas/adapters/local/file-vault.js';
import type { SigningKey, SigningKeySet } from '../../../../lambdas/core/ports.js';
import { rotateSigningKey, rotateSigningKeyFully, type RotationContext } from '../../../../lambdas/core/rotation/signing-key-rotation.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { SIGNING_ALG, SigningKeyCache, signingKeysFor } from '../../../../lambdas/core/tokens/signing-keys.js';
import { HOUR_MS, recordingLog, TestClock } from '../../fixtures.js';
import { vaultOver } from '../../../../lambdas/core/tokens/public-keys.js';

let a: SigningKey;
let b: SigningKey;
let c: SigningKey;

beforeAll(async () => {
  [a, b, c] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

function vaultOf(...sets: SigningKeySet[]) {
  const queue = [...sets];
  return vaultOver(vi.fn(async () => (queue.length > 1 ? queue.shift()! : queue[0]!)));
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

const MINUTE_MS = 60_000;
const PUBLISH_DELAY_MS = 15 * MINUTE_MS;
const OVERLAP_MS = HOUR_MS + 5 * MINUTE_MS;

/** A FileVault in memory, seeded, and a rotation context at the clock's current time. */
async function seededVault(clock: TestClock) {
  const vault = new FileVault();
  const seed = (await vault.getSigningKeys()).current;
  const ctx = (): RotationContext => ({
    secret: vault.secret,
    publicKeys: vault.publicKeys,
    now: clock.now(),
    publishDelayMs: PUBLISH_DELAY_MS,
    previousOverlapMs: OVERLAP_MS,
    log: recordingLog(),
  });
  return { vault, seed, ctx };
}

const kids = async (cache: SigningKeyCache) => (await cache.jwks()).keys.map((k) => k.kid);

async function signWith(cache: SigningKeyCache): Promise<string> {
  const { kid, key } = await cache.current();
  return new SignJWT({ sub: 'probe' }).setProtectedHeader({ alg: SIGNING_ALG, kid }).sign(key);
}

async function verifiesWith(cache: SigningKeyCache, jwt: string): Promise<boolean> {
  try {
    await jwtVerify(jwt, createLocalJWKSet(await cache.jwks()), { algorithms: [SIGNING_ALG] });
    return true;
  } catch {
    return false;
  }
}

describe('SigningKeyCache JWKS hygiene', () => {
  it('publishes only public members even when a stored publicJwk carries the private key', async () => {
    const careless: SigningKey = { ...b, publicJwk: b.privateJwk };
    const cache = new SigningKeyCache(vaultOf({ current: a, published: [careless], pending: careless }), new TestClock());

    const { keys } = await cache.jwks();

    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });
});

describe('SigningKeyCache over a rotated FileVault', () => {
  it('publishes the pending key while the current key still signs, before finishSecret', async () => {
    const clock = new TestClock();
    const { vault, seed, ctx } = await seededVault(clock);
    const token = randomUUID();
    await rotateSigningKey('createSecret', token, ctx());
    const cache = new SigningKeyCache(vault, clock, { previousOverlapMs: OVERLAP_MS });

    const published = await kids(cache);

    expect((await cache.current()).kid).toBe(seed.kid);
    expect(published).toHaveLength(2);
    expect(published[0]).toBe(seed.kid);
    expect(published[1]).not.toBe(seed.kid);
  });

  it('keeps the previous key signing until the new key activates, with both in JWKS', async () => {
    const clock = new TestClock();
    const { vault, seed, ctx } = await seededVault(clock);
    await rotateSigningKeyFully(randomUUID(), ctx());
    const rotated = (await vault.getSigningKeys()).current;
    const cache = new SigningKeyCache(vault, clock, { previousOverlapMs: OVERLAP_MS });

    clock.advance(PUBLISH_DELAY_MS - 1);

    expect(rotated.activatesAt).toBe(new Date(clock.now().getTime() + 1).toISOString());
    expect((await cache.current()).kid).toBe(seed.kid);
    expect(await kids(cache)).toEqual([rotated.kid, seed.kid]);
  });

  it('signs with the new key from activatesAt and keeps the previous key in JWKS', async () => {
    const clock = new TestClock();
    const { vault, seed, ctx } = await seededVault(clock);
    await rotateSigningKeyFully(randomUUID(), ctx());
    const rotated = (await vault.getSigningKeys()).current;
    const cache = new SigningKeyCache(vault, clock, { previousOverlapMs: OVERLAP_MS });

    clock.advance(PUBLISH_DELAY_MS);

    expect((await cache.current()).kid).toBe(rotated.kid);
    expect(rotated.kid).not.toBe(seed.kid);
    expect(await kids(cache)).toEqual([rotated.kid, seed.kid]);
  });

  it('drops the previous key from JWKS at activatesAt plus the overlap', async () => {
    const clock = new TestClock();
    const { vault, ctx } = await seededVault(clock);
    await rotateSigningKeyFully(randomUUID(), ctx());
    const rotated = (await vault.getSigningKeys()).current;
    const cache = new SigningKeyCache(vault, clock, { maxAgeMs: 0, previousOverlapMs: OVERLAP_MS });

    clock.advance(PUBLISH_DELAY_MS + OVERLAP_MS - 1);
    expect(await kids(cache)).toHaveLength(2);
    clock.advance(1);

    expect(await kids(cache)).toEqual([rotated.kid]);
    expect((await cache.current()).kid).toBe(rotated.kid);
  });

  it('verifies a token the previous key signed just before activation until the overlap ends', async () => {
    const clock = new TestClock();
    const { vault, seed, ctx } = await seededVault(clock);
    await rotateSigningKeyFully(randomUUID(), ctx());
    const cache = new SigningKeyCache(vault, clock, { maxAgeMs: 0, previousOverlapMs: OVERLAP_MS });

    clock.advance(PUBLISH_DELAY_MS - 1);
    const lastOldToken = await signWith(cache);
    clock.advance(1);
    const firstNewToken = await signWith(cache);

    expect((await cache.current()).kid).not.toBe(seed.kid);
    expect(await verifiesWith(cache, lastOldToken)).toBe(true);
    clock.advance(HOUR_MS); // a one-hour token signed just before activation expires about now
    expect(await verifiesWith(cache, lastOldToken)).toBe(true);
    clock.advance(5 * MINUTE_MS);
    expect(await verifiesWith(cache, lastOldToken)).toBe(false);
    expect(await verifiesWith(cache, firstNewToken)).toBe(true);
  });

  it('signs with the seeded key at once when no rotation has happened', async () => {
    const clock = new TestClock();
    const { vault, seed } = await seededVault(clock);
    const cache = new SigningKeyCache(vault, clock);

    expect((await cache.current()).kid).toBe(seed.kid);
    expect(await kids(cache)).toEqual([seed.kid]);
  });
});

describe('signingKeysFor', () => {
  const policyWithTtls = (...ttls: number[]) => ({
    document: { risks: Object.fromEntries(ttls.map((ttl, i) => [`risk${i}`, { accessTokenTtlSeconds: ttl }])) },
  });

  it.each([
    [[300, 3600, 900], 3900],
    [[600], 900],
    [[7200, 60], 7500],
  ])('keeps the previous key published for the longest TTL of %j plus 300 s (%i s)', async (ttls, overlapSeconds) => {
    const clock = new TestClock();
    const { vault, seed, ctx } = await seededVault(clock);
    await rotateSigningKeyFully(randomUUID(), ctx());
    const cache = signingKeysFor({ vault, clock, policy: policyWithTtls(...ttls) }, 0);

    clock.advance(PUBLISH_DELAY_MS + overlapSeconds * 1000 - 1);
    expect(await kids(cache)).toContain(seed.kid);
    clock.advance(1);

    expect(await kids(cache)).not.toContain(seed.kid);
    expect(await kids(cache)).toHaveLength(1);
  });

  it('reuses a vault read for the given maximum age', async () => {
    const vault = vaultOver(vi.fn(async (): Promise<SigningKeySet> => ({ current: a, published: [] })));
    const clock = new TestClock();
    const cache = signingKeysFor({ vault, clock, policy: policyWithTtls(3600) }, 30_000);

    await cache.current();
    clock.advance(29_999);
    await cache.jwks();
    clock.advance(1);
    await cache.jwks();

    expect(vault.getSigningKeys).toHaveBeenCalledTimes(2);
  });
});
