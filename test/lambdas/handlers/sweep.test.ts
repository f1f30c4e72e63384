import { describe, expect, it, vi } from 'vitest';
import type { AttentionIndex, PolicyRollout, PolicyRolloutStore } from '../../../lambdas/core/ports.js';
import { createSweepHandler } from '../../../lambdas/handlers/sweep.js';
import { consumerFixture, DAY_MS, NOW } from '../fixtures.js';
import { buildServices } from './fixtures.js';

/** An attention index and rollout store in memory: `due` consumers, and a rollout already complete for the deployed policy. */
function index(options: { readonly due?: ReturnType<typeof consumerFixture>[]; readonly fail?: Error; readonly rolloutVersion: string }): AttentionIndex & PolicyRolloutStore {
  const rollout: PolicyRollout = { version: options.rolloutVersion, startedAt: NOW.toISOString(), complete: true, reevaluated: 0, outOfPolicy: 0, revision: 1 };
  return {
    listDue: vi.fn(async () => {
      if (options.fail) throw options.fail;
      return { consumers: options.due ?? [] };
    }),
    rearm: vi.fn(async () => true),
    getPolicyRollout: vi.fn(async () => rollout),
    savePolicyRollout: vi.fn(async () => true),
  };
}

describe('createSweepHandler', () => {
  it('records every count of the run, zeros included, and the policy rollout\'s', async () => {
    const services = buildServices({ jwks: { keys: [] } });
    // Due and used since: nothing to do but move its attention time.
    const due = [consumerFixture({ attentionAt: NOW.toISOString(), lastUsedAt: new Date(NOW.getTime() - DAY_MS).toISOString() })];

    const result = await createSweepHandler(services, index({ due, rolloutVersion: services.policy.version }))({});

    expect(result).toMatchObject({ read: 1, failed: 0, complete: true });
    expect(Object.fromEntries(services.metrics.snapshot().map((m) => [m.name, [m.dimensions, m.sum, m.count]]))).toEqual({
      SweepReads: [{}, 1, 1],
      SweepRevoked: [{}, result.revoked, 1],
      SweepSuspended: [{}, result.suspended, 1],
      SweepWarned: [{}, result.warned, 1],
      SweepExceptionsEnded: [{}, result.exceptionsEnded, 1],
      SweepRequestsFailed: [{}, result.requestsFailed, 1],
      SweepFailed: [{}, 0, 1],
      PolicyRolloutReevaluated: [{}, 0, 1],
      PolicyRolloutOutOfPolicy: [{}, 0, 1],
    });
  });

  it('publishes what it recorded when the run fails, and records no counts for the failed run', async () => {
    const services = buildServices({ jwks: { keys: [] } });
    const flush = vi.spyOn(services.metrics, 'flush');

    await expect(createSweepHandler(services, index({ fail: new Error('index unavailable'), rolloutVersion: services.policy.version }))({})).rejects.toThrow('index unavailable');

    expect(flush).toHaveBeenCalledTimes(1);
    expect(services.metrics.snapshot()).toEqual([]);
  });
});
