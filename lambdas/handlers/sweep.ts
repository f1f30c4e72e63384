import type { Context } from 'aws-lambda';
import { sweep, type SweepResult, type SweepServices } from '../core/lifecycle/sweep.js';
import type { BaseServices, Uses } from '../core/services.js';
import { attestationLinkKeysFor } from '../core/recertification/link.js';

/** The run's counts as metrics (zeros included, so every run shows on the dashboard and a silent schedule stands out). */
function recordSweep(services: BaseServices, result: SweepResult): void {
  const { metrics } = services;
  metrics.record('SweepReads', {}, result.read);
  metrics.record('SweepRevoked', {}, result.revoked);
  metrics.record('SweepSuspended', {}, result.suspended);
  metrics.record('SweepWarned', {}, result.warned);
  metrics.record('SweepExceptionsEnded', {}, result.exceptionsEnded);
  metrics.record('SweepRequestsFailed', {}, result.requestsFailed);
  metrics.record('SweepFailed', {}, result.failed);
  if (result.rollout) {
    metrics.record('PolicyRolloutReevaluated', {}, result.rollout.reevaluated);
    metrics.record('PolicyRolloutOutOfPolicy', {}, result.rollout.outOfPolicy);
  }
}

/**
 * The lifecycle sweep, run by an EventBridge schedule (and on an interval in local mode), with the re-evaluation of
 * consumers after a policy change. It stops cleanly before the Lambda timeout; whatever is still due stays in the index,
 * and the policy rollout keeps its place, for the next run.
 */
export function createSweepHandler(
  services: SweepServices & Uses<'listDue' | 'rearm' | 'getPolicyRollout' | 'savePolicyRollout'>,
): (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SweepResult> {
  const attestationKeys = attestationLinkKeysFor(services);
  return async (_event, context) => {
    try {
      const result = await sweep(services, services.attention, {
        rollout: services.rollouts,
        attestationKeys,
        ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
      });
      recordSweep(services, result);
      const log = result.failed > 0 || !result.complete ? services.log.warn.bind(services.log) : services.log.info.bind(services.log);
      log('lifecycle sweep finished', { ...result });
      return result;
    } finally {
      services.metrics.flush();
    }
  };
}
