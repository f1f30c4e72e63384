import { describe, expect, it } from 'vitest';
import type { RemoteKeySets } from '../../../../lambdas/core/ports/remote-key-sets.js';
import { RemoteKeySetCache } from '../../../../lambdas/core/remote-jwks/cache.js';
import { RemoteKeySetError } from '../../../../lambdas/core/remote-jwks/errors.js';

const key = (kid: string) => ({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid });
const URL_A = 'https://keys.partner.example/jwks';

/** A partner's key-set host whose published keys a test changes, counting the fetches. */
function partner() {
  let keys = [key('k1')];
  let failing: RemoteKeySetError | undefined;
  const state = { fetches: 0 };
  const fetcher: RemoteKeySets = {
    fetchJson: () => {
      state.fetches++;
      return failing ? Promise.reject(failing) : Promise.resolve({ keys });
    },
  };
  return {
    fetcher,
    state,
    publish: (...kids: string[]) => (keys = kids.map(key)),
    fail: (error: RemoteKeySetError | undefined) => (failing = error),
  };
}

function clockAt(ms: number) {
  const clock = { t: ms, now: () => new Date(clock.t) };
  return clock;
}

describe('RemoteKeySetCache', () => {
  it('serves a fetched set from memory while it is younger than the policy age, and fetches again after', async () => {
    const p = partner();
    const clock = clockAt(0);
    const cache = new RemoteKeySetCache(p.fetcher, clock, 600);

    expect((await cache.keysFor('c1', URL_A, 'k1')).fetched).toBe('expired');
    clock.t = 599_000;
    expect((await cache.keysFor('c1', URL_A, 'k1')).fetched).toBe('no');
    clock.t = 600_000;
    expect((await cache.keysFor('c1', URL_A, 'k1')).fetched).toBe('expired');
    expect(p.state.fetches).toBe(2);
  });

  it('never trusts a set longer than 20 minutes whatever the policy says', async () => {
    const p = partner();
    const clock = clockAt(0);
    const cache = new RemoteKeySetCache(p.fetcher, clock, 86_400);
    await cache.keysFor('c1', URL_A, 'k1');
    clock.t = 1_200_000;
    expect((await cache.keysFor('c1', URL_A, 'k1')).fetched).toBe('expired');
  });

  it('refetches once for an unknown kid, and not again for another unknown kid within a minute', async () => {
    const p = partner();
    const clock = clockAt(0);
    const cache = new RemoteKeySetCache(p.fetcher, clock, 600);
    await cache.keysFor('c1', URL_A, 'k1');

    clock.t = 61_000;
    p.publish('k1', 'k2');
    const rolled = await cache.keysFor('c1', URL_A, 'k2');
    expect(rolled.fetched).toBe('unknown_kid');
    expect(rolled.set.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);

    clock.t = 100_000;
    p.publish('k1', 'k2', 'k3');
    const again = await cache.keysFor('c1', URL_A, 'k3');
    expect(again.fetched).toBe('no');
    expect(again.set.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    expect(p.state.fetches).toBe(2);

    clock.t = 121_000;
    expect((await cache.keysFor('c1', URL_A, 'k3')).fetched).toBe('unknown_kid');
  });

  it('counts the minute per client: another client refetches for its own unknown kid', async () => {
    const p = partner();
    const clock = clockAt(0);
    const cache = new RemoteKeySetCache(p.fetcher, clock, 600);
    await cache.keysFor('c1', URL_A, 'k1');
    await cache.keysFor('c2', URL_A, 'k1');
    clock.t = 30_000;
    expect((await cache.keysFor('c1', URL_A, 'kx')).fetched).toBe('no');
    clock.t = 61_000;
    expect((await cache.keysFor('c2', URL_A, 'kx')).fetched).toBe('unknown_kid');
  });

  it('fails closed once the set is too old and cannot be fetched, and retries the fetch at most once a minute', async () => {
    const p = partner();
    const clock = clockAt(0);
    const cache = new RemoteKeySetCache(p.fetcher, clock, 600);
    await cache.keysFor('c1', URL_A, 'k1');
    p.fail(new RemoteKeySetError('timeout', 'jwks_uri did not answer completely within 3000 ms'));

    clock.t = 600_000;
    await expect(cache.keysFor('c1', URL_A, 'k1')).rejects.toThrow('jwks_uri did not answer completely within 3000 ms');
    clock.t = 630_000;
    await expect(cache.keysFor('c1', URL_A, 'k1')).rejects.toThrow('jwks_uri did not answer completely within 3000 ms');
    expect(p.state.fetches).toBe(2);

    p.fail(undefined);
    clock.t = 660_000;
    expect((await cache.keysFor('c1', URL_A, 'k1')).fetched).toBe('expired');
  });

  it('shares one fetch between concurrent lookups of the same client', async () => {
    const p = partner();
    const cache = new RemoteKeySetCache(p.fetcher, clockAt(0), 600);
    await Promise.all([cache.keysFor('c1', URL_A, 'k1'), cache.keysFor('c1', URL_A, 'k1'), cache.keysFor('c1', URL_A, 'k1')]);
    expect(p.state.fetches).toBe(1);
  });

  it('fetches afresh when the client registered another URL', async () => {
    const p = partner();
    const cache = new RemoteKeySetCache(p.fetcher, clockAt(0), 600);
    await cache.keysFor('c1', URL_A, 'k1');
    expect((await cache.keysFor('c1', 'https://keys.partner.example/v2/jwks', 'k1')).fetched).toBe('expired');
  });

  it('refuses a published set that holds a private key', async () => {
    const fetcher: RemoteKeySets = { fetchJson: () => Promise.resolve({ keys: [{ ...key('k1'), d: 'private' }] }) };
    const cache = new RemoteKeySetCache(fetcher, clockAt(0), 600);
    await expect(cache.keysFor('c1', URL_A, 'k1')).rejects.toMatchObject({ code: 'not_a_key_set', message: expect.stringContaining('private key material') });
  });
});
