import { describe, expect, it } from 'vitest';
import { attentionAt, deadlines, STALLED_REVIEW_MS } from '../../../../lambdas/core/lifecycle/attention.js';
import { consumerFixture, DAY_MS, NOW } from '../../fixtures.js';

const settings = { warningDays: 14 };
const at = (days: number) => new Date(NOW.getTime() + days * DAY_MS).toISOString();

describe('deadlines and attentionAt', () => {
  it('warns half-way through a short exception rather than on the day it is granted', () => {
    const c = consumerFixture({
      expiresAt: at(300),
      exceptions: [{ rule: 'dormancy_days', value: 120, exceptionId: 'exc-1', grantedAt: NOW.toISOString(), expiresAt: at(10), approvers: ['a@bank.example'] }],
    });
    const exception = deadlines(c, settings).find((d) => d.kind === 'exception')!;
    expect(exception).toMatchObject({ at: Date.parse(at(10)), warnAt: Date.parse(at(5)), warningKey: 'exception:exc-1', exceptionId: 'exc-1' });
    expect(attentionAt(c, settings)).toBe(at(5));
    expect(attentionAt({ ...c, warningsSent: ['exception:exc-1'] }, settings)).toBe(at(10));
  });

  it('extends the dormancy cutoff under a dormancy_days exception', () => {
    const c = consumerFixture({ expiresAt: at(300), lastUsedAt: NOW.toISOString() });
    expect(deadlines(c, settings).find((d) => d.kind === 'dormancy')!.at).toBe(Date.parse(at(90)));
    const extended = {
      ...c,
      exceptions: [{ rule: 'dormancy_days' as const, value: 180, exceptionId: 'exc-1', grantedAt: NOW.toISOString(), expiresAt: at(200), approvers: [] }],
    };
    expect(deadlines(extended, settings).find((d) => d.kind === 'dormancy')!.at).toBe(Date.parse(at(180)));
  });

  it('makes the end of a policy-drift grace period a deadline with no warning of its own, for active consumers only', () => {
    const outOfPolicy = { policyVersion: 'p@2', reasons: [], since: NOW.toISOString(), suspendAt: at(14) };
    const c = consumerFixture({ expiresAt: at(300), lastUsedAt: NOW.toISOString(), outOfPolicy });
    expect(deadlines(c, settings).find((d) => d.kind === 'drift')).toMatchObject({ at: Date.parse(at(14)), warnAt: undefined });
    expect(attentionAt(c, settings)).toBe(at(14));
    expect(deadlines({ ...c, status: 'suspended' }, settings).some((d) => d.kind === 'drift')).toBe(false);
  });

  it('checks a consumer’s change requests STALLED_REVIEW_MS after the oldest was opened, whatever its status', () => {
    const c = consumerFixture({ expiresAt: at(300), lastUsedAt: NOW.toISOString(), requestCheckAt: NOW.toISOString() });
    expect(deadlines(c, settings).find((d) => d.kind === 'requests')).toMatchObject({ at: NOW.getTime() + STALLED_REVIEW_MS, warnAt: undefined });
    expect(attentionAt(c, settings)).toBe(new Date(NOW.getTime() + STALLED_REVIEW_MS).toISOString());
    expect(attentionAt({ ...c, status: 'revoked' }, settings)).toBe(new Date(NOW.getTime() + STALLED_REVIEW_MS).toISOString());
    expect(attentionAt({ ...c, status: 'revoked', requestCheckAt: undefined }, settings)).toBeUndefined();
  });
});
