import { describe, expect, it } from 'vitest';
import { chainEvent, GENESIS_HASH, verifyChain, type AuditEvent } from '../../../../lambdas/core/audit/event.js';
import { canonicalJson } from '../../../../lambdas/core/util/canonical-json.js';
import { sha256Hex } from '../../../../lambdas/core/util/hash.js';
import { auditTrailFor, CLIENT_ID, NOW } from '../../fixtures.js';

const trail = (): AuditEvent[] => auditTrailFor(CLIENT_ID, NOW.toISOString(), 4);

describe('chainEvent', () => {
  it('starts a chain at seq 1 from the genesis hash', () => {
    const first = chainEvent(
      { seq: 0, head: GENESIS_HASH },
      { clientId: CLIENT_ID, type: 'consumer.requested', at: NOW.toISOString(), actor: { kind: 'consumer', id: CLIENT_ID }, data: {} },
    );

    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes every field but the hash itself, independent of key order', () => {
    const event = trail()[1]!;
    const { hash, ...body } = event;
    const reordered = Object.fromEntries(Object.entries(body).reverse());

    expect(hash).toBe(sha256Hex(canonicalJson(body)));
    expect(hash).toBe(sha256Hex(canonicalJson(reordered)));
  });

  it('links each event to the hash of the one before', () => {
    const events = trail();

    events.forEach((e, i) => {
      expect(e.seq).toBe(i + 1);
      expect(e.prevHash).toBe(i === 0 ? GENESIS_HASH : events[i - 1]!.hash);
    });
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain, and an empty one', () => {
    expect(verifyChain(trail())).toEqual({ ok: true });
    expect(verifyChain([])).toEqual({ ok: true });
  });

  const tamperings: [string, (e: AuditEvent) => AuditEvent][] = [
    ['clientId', (e) => ({ ...e, clientId: 'gh_someone_else' })],
    ['seq', (e) => ({ ...e, seq: e.seq + 10 })],
    ['type', (e) => ({ ...e, type: 'consumer.revoked' })],
    ['at', (e) => ({ ...e, at: '2020-01-01T00:00:00.000Z' })],
    ['actor.kind', (e) => ({ ...e, actor: { ...e.actor, kind: 'operator' } })],
    ['actor.id', (e) => ({ ...e, actor: { ...e.actor, id: 'mallory' } })],
    ['data (changed)', (e) => ({ ...e, data: { ...e.data, step: 99 } })],
    ['data (added)', (e) => ({ ...e, data: { ...e.data, approvedBy: 'mallory' } })],
    ['prevHash', (e) => ({ ...e, prevHash: 'f'.repeat(64) })],
    ['hash', (e) => ({ ...e, hash: 'f'.repeat(64) })],
  ];

  it('detects events cut off the end when given the consumer’s recorded head', () => {
    const events = trail();
    const last = events.at(-1)!;
    const head = { seq: last.seq, hash: last.hash };

    expect(verifyChain(events, head)).toEqual({ ok: true });
    expect(verifyChain(events.slice(0, -1))).toEqual({ ok: true });
    expect(verifyChain(events.slice(0, -1), head)).toEqual({ ok: false, brokenAt: events.length });
    expect(verifyChain([], head)).toEqual({ ok: false, brokenAt: 1 });
  });

  it.each(tamperings)('detects a change of %s in any event', (_field, tamper) => {
    for (let i = 0; i < 4; i++) {
      const events = trail();
      events[i] = tamper(events[i]!);

      const result = verifyChain(events);

      expect(result.ok).toBe(false);
      expect(result.brokenAt).toBeDefined();
    }
  });

  it('detects a change that recomputes the event’s own hash, at the next event', () => {
    const events = trail();
    const { hash: _h, seq: _s, prevHash: _p, ...forged } = { ...events[1]!, actor: { kind: 'operator' as const, id: 'mallory' } };
    events[1] = chainEvent({ seq: events[0]!.seq, head: events[0]!.hash }, forged);

    expect(verifyChain(events)).toEqual({ ok: false, brokenAt: 3 });
  });

  it('detects reordering', () => {
    const events = trail();
    [events[1], events[2]] = [events[2]!, events[1]!];

    expect(verifyChain(events)).toEqual({ ok: false, brokenAt: 3 });
  });

  it.each([0, 1, 2])('detects the deletion of event %i', (index) => {
    const events = trail();
    events.splice(index, 1);

    expect(verifyChain(events).ok).toBe(false);
  });

  it('detects an event inserted into the chain', () => {
    const events = trail();
    const extra = chainEvent(
      { seq: events[1]!.seq, head: events[1]!.hash },
      { clientId: CLIENT_ID, type: 'consumer.activated', at: NOW.toISOString(), actor: { kind: 'operator', id: 'mallory' }, data: {} },
    );
    events.splice(2, 0, extra);

    expect(verifyChain(events)).toEqual({ ok: false, brokenAt: 3 });
  });
});
