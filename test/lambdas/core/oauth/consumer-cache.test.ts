import { describe, expect, it, vi } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { ConsumerCache } from '../../../../lambdas/core/oauth/consumer-cache.js';
import type { ConsumerStore } from '../../../../lambdas/core/ports.js';
import { CLIENT_ID, consumerFixture, TestClock } from '../../fixtures.js';

function registryOf(consumers: Consumer[]) {
  const byId = new Map(consumers.map((c) => [c.clientId, c]));
  const getConsumer = vi.fn(async (id: string) => byId.get(id));
  const registry = { getConsumer } as unknown as ConsumerStore;
  return { registry, getConsumer, byId };
}

describe('ConsumerCache', () => {
  it('serves a consumer from memory within the TTL, with one registry read', async () => {
    const { registry, getConsumer } = registryOf([consumerFixture()]);
    const clock = new TestClock();
    const cache = new ConsumerCache(registry, clock, 5_000);

    await cache.get(CLIENT_ID);
    clock.advance(4_999);
    const consumer = await cache.get(CLIENT_ID);

    expect(consumer?.clientId).toBe(CLIENT_ID);
    expect(getConsumer).toHaveBeenCalledTimes(1);
  });

  it('re-reads once the TTL has passed, so a suspension bites within it', async () => {
    const { registry, getConsumer, byId } = registryOf([consumerFixture()]);
    const clock = new TestClock();
    const cache = new ConsumerCache(registry, clock, 5_000);

    expect((await cache.get(CLIENT_ID))?.status).toBe('active');
    byId.set(CLIENT_ID, consumerFixture({ status: 'suspended' }));
    expect((await cache.get(CLIENT_ID))?.status).toBe('active');
    clock.advance(5_000);

    expect((await cache.get(CLIENT_ID))?.status).toBe('suspended');
    expect(getConsumer).toHaveBeenCalledTimes(2);
  });

  it('remembers an unknown id for the TTL, so made-up ids cost at most one registry read each per TTL', async () => {
    const { registry, getConsumer } = registryOf([]);
    const clock = new TestClock();
    const cache = new ConsumerCache(registry, clock, 5_000);

    for (let i = 0; i < 50; i++) expect(await cache.get('gh_unknown')).toBeUndefined();
    clock.advance(4_999);
    await cache.get('gh_unknown');
    expect(getConsumer).toHaveBeenCalledTimes(1);

    clock.advance(1);
    await cache.get('gh_unknown');
    expect(getConsumer).toHaveBeenCalledTimes(2);
  });

  it('finds a client created after its id was looked up once the TTL has passed', async () => {
    const { registry, byId } = registryOf([]);
    const clock = new TestClock();
    const cache = new ConsumerCache(registry, clock, 5_000);

    expect(await cache.get(CLIENT_ID)).toBeUndefined();
    byId.set(CLIENT_ID, consumerFixture());
    clock.advance(5_000);

    expect((await cache.get(CLIENT_ID))?.clientId).toBe(CLIENT_ID);
  });

  it('keeps real clients when flooded with unknown ids', async () => {
    const { registry, getConsumer } = registryOf([consumerFixture()]);
    const cache = new ConsumerCache(registry, new TestClock(), 60_000, 2);

    await cache.get(CLIENT_ID);
    for (let i = 0; i < 10; i++) await cache.get(`gh_made_up_${i}`);
    getConsumer.mockClear();
    await cache.get(CLIENT_ID);
    await cache.get('gh_made_up_9');

    expect(getConsumer).not.toHaveBeenCalled();
  });

  it('caches nothing with a TTL of 0', async () => {
    const { registry, getConsumer } = registryOf([consumerFixture()]);
    const cache = new ConsumerCache(registry, new TestClock(), 0);

    await cache.get(CLIENT_ID);
    await cache.get(CLIENT_ID);

    expect(getConsumer).toHaveBeenCalledTimes(2);
  });

  it('forgets a client on request', async () => {
    const { registry, getConsumer } = registryOf([consumerFixture()]);
    const cache = new ConsumerCache(registry, new TestClock(), 60_000);

    await cache.get(CLIENT_ID);
    cache.forget(CLIENT_ID);
    await cache.get(CLIENT_ID);

    expect(getConsumer).toHaveBeenCalledTimes(2);
  });

  it('evicts the oldest entry when full', async () => {
    const ids = ['gh_a', 'gh_b', 'gh_c'];
    const { registry, getConsumer } = registryOf(ids.map((clientId) => consumerFixture({ clientId })));
    const cache = new ConsumerCache(registry, new TestClock(), 60_000, 2);

    for (const id of ids) await cache.get(id);
    getConsumer.mockClear();
    await cache.get('gh_c');
    await cache.get('gh_b');
    await cache.get('gh_a');

    expect(getConsumer.mock.calls.map(([id]) => id)).toEqual(['gh_a']);
  });
});
