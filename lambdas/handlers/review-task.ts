import { z } from 'zod';
import type { Actor } from '../core/audit/event.js';
import { transition } from '../core/consumer/transition.js';
import type { Services } from '../core/services.js';

const SYSTEM: Actor = { kind: 'system', id: 'review-workflow' };

/** The payloads the review state machine sends (statemachines/onboarding.asl.json). */
export const ReviewTaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('request_approval'), clientId: z.string().min(1), taskToken: z.string().min(1) }),
  z.object({ action: z.literal('activate'), clientId: z.string().min(1) }),
  z.object({ action: z.literal('deny'), clientId: z.string().min(1), cause: z.string().optional() }),
  z.object({ action: z.literal('expire'), clientId: z.string().min(1) }),
  z.object({ action: z.literal('fail'), clientId: z.string().min(1), error: z.unknown() }),
]);
export type ReviewTask = z.infer<typeof ReviewTaskSchema>;

/** Runs one step of the review workflow; every step is idempotent because Step Functions retries. */
export function createReviewTaskHandler(services: Services): (event: unknown) => Promise<{ status: string }> {
  return async (event) => {
    const task = ReviewTaskSchema.parse(event);
    switch (task.action) {
      case 'request_approval': {
        // The token stays server-side; reviewers act through signed links that reference the review, never the token.
        const consumer = await transition(services, {
          clientId: task.clientId,
          to: undefined,
          event: 'consumer.review_requested',
          actor: SYSTEM,
          data: {},
          set: { reviewTaskToken: task.taskToken },
        });
        return { status: consumer.status };
      }
      case 'activate':
        return { status: (await transition(services, { clientId: task.clientId, to: 'active', event: 'consumer.activated', actor: SYSTEM, data: { by: 'review' }, set: { reviewTaskToken: undefined } })).status };
      case 'deny':
        return { status: (await transition(services, { clientId: task.clientId, to: 'denied', event: 'consumer.denied', actor: SYSTEM, data: { cause: task.cause ?? '' }, set: { reviewTaskToken: undefined } })).status };
      case 'expire':
        return { status: (await transition(services, { clientId: task.clientId, to: 'expired', event: 'consumer.expired', actor: SYSTEM, data: { reason: 'review_sla_elapsed' }, set: { reviewTaskToken: undefined } })).status };
      case 'fail':
        return { status: (await transition(services, { clientId: task.clientId, to: 'failed', event: 'consumer.review_failed', actor: SYSTEM, data: { error: JSON.stringify(task.error ?? null).slice(0, 1000) }, set: { reviewTaskToken: undefined } })).status };
    }
  };
}
