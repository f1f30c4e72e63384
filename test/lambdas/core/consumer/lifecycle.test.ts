import { describe, expect, it } from 'vitest';
import { CONSUMER_STATUSES, type ConsumerStatus } from '../../../../lambdas/core/consumer/consumer.js';
import { canTransition, INITIAL_STATUSES, mayObtainTokens, sourcesOf } from '../../../../lambdas/core/consumer/lifecycle.js';

/** The lifecycle, spelled out: every pair not listed here is forbidden. */
const ALLOWED: ReadonlyArray<readonly [ConsumerStatus, ConsumerStatus]> = [
  ['pending_review', 'active'],
  ['pending_review', 'denied'],
  ['pending_review', 'expired'],
  ['pending_review', 'failed'],
  ['pending_review', 'withdrawn'],
  ['active', 'suspended'],
  ['active', 'revoked'],
  ['suspended', 'active'],
  ['suspended', 'revoked'],
];

const ALL_PAIRS = CONSUMER_STATUSES.flatMap((from) => CONSUMER_STATUSES.map((to) => [from, to] as const));
const isAllowed = (from: ConsumerStatus, to: ConsumerStatus) => ALLOWED.some(([f, t]) => f === from && t === to);

describe('canTransition', () => {
  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each(ALL_PAIRS.filter(([from, to]) => !isAllowed(from, to)))('forbids %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it.each(['denied', 'expired', 'failed', 'withdrawn', 'revoked'] as const)('treats %s as terminal', (status) => {
    expect(CONSUMER_STATUSES.filter((to) => canTransition(status, to))).toEqual([]);
  });

  it('never allows going back to review', () => {
    expect(sourcesOf('pending_review')).toEqual([]);
  });
});

describe('sourcesOf', () => {
  it.each(CONSUMER_STATUSES)('lists exactly the statuses that may become %s', (to) => {
    const expected = ALLOWED.filter(([, t]) => t === to).map(([f]) => f);

    expect([...sourcesOf(to)].sort()).toEqual([...expected].sort());
  });
});

describe('INITIAL_STATUSES', () => {
  it('lets a consumer start only active or pending review', () => {
    expect([...INITIAL_STATUSES].sort()).toEqual(['active', 'pending_review']);
  });
});

describe('mayObtainTokens', () => {
  it.each(CONSUMER_STATUSES)('is true only for an active consumer (%s)', (status) => {
    expect(mayObtainTokens(status)).toBe(status === 'active');
  });
});
