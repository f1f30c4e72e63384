import type { Context } from 'aws-lambda';
import { removeOrphanSecrets, type OrphanSecretResult } from '../core/lifecycle/orphan-secrets.js';
import { sweep, type SweepResult, type SweepServices } from '../core/lifecycle/sweep.js';
import type { ClientSecretInventory } from '../core/ports.js';
import type { BaseServices, Uses } from '../core/services.js';
import { attestationLinkKeysFor } from '../core/recertification/link.js';

/** Ports the sweep takes besides its services. */
export interface SweepPorts {
  /**
   * The client-secret listing, to schedule the deletion of secrets whose registration never committed. Local mode passes
   * none: it removes orphaned secret files at start-up.
   */
  readonly clientSecretInventory?: ClientSecretInventory;
}

/** What a sweep run did: the lifecycle counts and, when it ran, the orphaned-secret clean-up. */
export type SweepRunResult = SweepResult & { readonly orphanSecrets?: OrphanSecretResult };

/** The margin the orphaned-secret clean-up leaves before the Lambda timeout (the lifecycle sweep's own). */
const ORPHAN_STOP_MARGIN_MS = 10_000;

/** The run's counts as metrics (zeros included, so every run shows on the dashboard and a silent schedule stands out). */
function recordSweep(services: BaseServices, result: SweepRunResult): void {
  const { metrics } = services;
  metrics.record('SweepReads', {}, result.read);
  metrics.record('SweepRevoked', {}, result.revoked);
  metrics.record('SweepSuspended', {}, result.suspended);
  metrics.record('SweepWarned', {}, result.warned);
  metrics.record('SweepExceptionsEnded', {}, result.exceptionsEnded);
  metrics.record('SweepRequestsFailed', {}, result.requestsFailed);
  metrics.record('SweepFailed', {}, result.failed);
  metrics.record('RecertificationsDue', {}, result.recertificationsDue);
  metrics.record('RecertificationOutcomes', { outcome: 'suspended_overdue' }, result.recertificationsOverdue);
  // Failures to check or remove a secret are ERROR log lines, which the function's log alarm counts.
  if (result.orphanSecrets) metrics.record('SweepOrphanSecretsDeleted', {}, result.orphanSecrets.deleted);
  if (result.rollout) {
    metrics.record('PolicyRolloutReevaluated', {}, result.rollout.reevaluated);
    metrics.record('PolicyRolloutOutOfPolicy', {}, result.rollout.outOfPolicy);
  }
}

/**
 * The lifecycle sweep, run by an EventBridge schedule (and on an interval in local mode), with the re-evaluation of
 * consumers after a policy change, and then, with `clientSecretInventory`, the deletion of orphaned client secrets. It
 * stops cleanly before the Lambda timeout; whatever is still due stays in the index, and the policy rollout keeps its
 * place, for the next run.
 */
export function createSweepHandler(
  services: SweepServices & Uses<'listDue' | 'rearm' | 'getPolicyRollout' | 'savePolicyRollout'>,
  ports: SweepPorts = {},
): (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SweepRunResult> {
  const attestationKeys = attestationLinkKeysFor(services);
  return async (_event, context) => {
    try {
      const remainingMs = context ? () => context.getRemainingTimeInMillis() : undefined;
      const lifecycle = await sweep(services, services.attention, { rollout: services.rollouts, attestationKeys, ...(remainingMs ? { remainingMs } : {}) });
      // Only after the lifecycle work, which matters more, and only when it finished within this run.
      let result: SweepRunResult = lifecycle;
      if (ports.clientSecretInventory && lifecycle.complete) {
        try {
          const orphanSecrets = await removeOrphanSecrets(services, ports.clientSecretInventory, {
            ...(remainingMs ? { timeLeft: () => remainingMs() >= ORPHAN_STOP_MARGIN_MS } : {}),
          });
          result = { ...lifecycle, orphanSecrets };
        } catch (error) {
          // The lifecycle work is done and must not be retried for this: the ERROR line raises the function's log alarm,
          // and the next run lists again.
          services.log.error('sweep could not list client secrets', { error: (error as Error).name, message: (error as Error).message });
        }
      }
      recordSweep(services, result);
      const log =
        result.failed > 0 || !result.complete || (result.orphanSecrets?.failed ?? 0) > 0
          ? services.log.warn.bind(services.log)
          : services.log.info.bind(services.log);
      log('lifecycle sweep finished', { ...result });
      return result;
    } finally {
      services.metrics.flush();
    }
  };
}
