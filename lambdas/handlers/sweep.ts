import type { Context } from 'aws-lambda';
import { sweep, type SweepResult } from '../core/lifecycle/sweep.js';
import type { AttentionIndex } from '../core/ports.js';
import type { Services } from '../core/services.js';

/**
 * The lifecycle sweep, run by an EventBridge schedule (and on an interval in local mode). It stops cleanly before the
 * Lambda timeout; whatever is still due stays in the index for the next run.
 */
export function createSweepHandler(services: Services, index: AttentionIndex): (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SweepResult> {
  return async (_event, context) => {
    const result = await sweep(services, index, context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {});
    const log = result.failed > 0 || !result.complete ? services.log.warn.bind(services.log) : services.log.info.bind(services.log);
    log('lifecycle sweep finished', { ...result });
    return result;
  };
}
