import { describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../../../lambdas/adapters/local/memory-metrics.js';

describe('MemoryMetrics', () => {
  it('keeps a sum, a count, a minimum and a maximum per metric and dimension values', () => {
    const metrics = new MemoryMetrics();
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' });
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' }, 2);
    metrics.record('TokensIssued', { tier: 'internal', risk: 'high' });
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 30);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 90);

    expect(metrics.snapshot()).toEqual([
      { name: 'ReviewLatency', unit: 'Seconds', dimensions: { kind: 'onboarding', outcome: 'approved' }, sum: 120, count: 2, min: 30, max: 90 },
      { name: 'TokensIssued', unit: 'Count', dimensions: { tier: 'internal', risk: 'high' }, sum: 1, count: 1, min: 1, max: 1 },
      { name: 'TokensIssued', unit: 'Count', dimensions: { tier: 'public', risk: 'low' }, sum: 3, count: 2, min: 1, max: 2 },
    ]);
  });

  it('adds up the series whose dimensions match a filter, or all of a metric without one', () => {
    const metrics = new MemoryMetrics();
    metrics.record('RegistrationDecisions', { path: 'auto', tier: 'public' }, 3);
    metrics.record('RegistrationDecisions', { path: 'review', tier: 'public' });
    metrics.record('RegistrationDecisions', { path: 'review', tier: 'partner' });
    metrics.record('SweepReads', {}, 7);

    expect(metrics.total('RegistrationDecisions')).toBe(5);
    expect(metrics.total('RegistrationDecisions', { tier: 'public' })).toBe(4);
    expect(metrics.total('RegistrationDecisions', { path: 'review', tier: 'partner' })).toBe(1);
    expect(metrics.total('RegistrationDecisions', { path: 'deny' })).toBe(0);
    expect(metrics.count('RegistrationDecisions', { path: 'auto' })).toBe(1);
    expect(metrics.total('SweepReads')).toBe(7);
    expect(metrics.total('SweepFailed')).toBe(0);
  });

  it('keeps its counters across flushes (nothing is published locally), drops non-finite values and forgets on reset', () => {
    const metrics = new MemoryMetrics();
    metrics.record('AdminActions', { action: 'suspend' });
    metrics.flush();
    metrics.record('AdminActions', { action: 'suspend' }, Number.NaN);
    expect(metrics.total('AdminActions', { action: 'suspend' })).toBe(1);

    const copy = metrics.snapshot();
    metrics.record('AdminActions', { action: 'suspend' });
    expect(copy[0]!.sum).toBe(1);

    metrics.reset();
    expect(metrics.snapshot()).toEqual([]);
  });

  it('sums each series up in one line: totals for counts, observations with mean and maximum for durations', () => {
    const metrics = new MemoryMetrics();
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' }, 12);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 30);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 90.125);
    metrics.record('SweepReads', {}, 4);

    expect(metrics.summary()).toEqual([
      'ReviewLatency kind=onboarding outcome=approved  2 × mean 60.06 s, max 90.13 s',
      'SweepReads  4',
      'TokensIssued tier=public risk=low  12',
    ]);
    expect(new MemoryMetrics().summary()).toEqual([]);
  });
});
