import { z } from 'zod';
import type { Actor } from '../core/audit/event.js';
import { transition } from '../core/consumer/transition.js';
import type { Services } from '../core/services.js';
import { outcomeEmail } from '../core/review/emails.js';
import { requestApproval } from '../core/review/request-approval.js';
import { signingKeysFor } from '../core/tokens/signing-keys.js';

const SYSTEM: Actor = { kind: 'system', id: 'review-workflow' };

/** The payloads the review state machine sends (statemachines/onboarding.asl.json). */
export const ReviewTaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('request_approval'), clientId: z.string().min(1), taskToken: z.string().min(1) }),
  z.object({ action: z.literal('activate'), clientId: z.string().min(1) }),
  z.object({ action: z.literal('deny'), clientId: z.string().min(1), cause: z.string().optional() }),
  z.object({ action: z.literal('expire'), clientId: z.string().min(1) }),
  z.object({ action: z.literal('fail'), clientId: z.string().min(1), error: z.unknown() }),
  z.object({ action: z.literal('notify'), clientId: z.string().min(1) }),
]);
export type ReviewTask = z.infer<typeof ReviewTaskSchema>;

/** The reviewer's comment from the SendTaskFailure cause (`{ reviewer, comment }`), or the raw cause. */
function denialComment(cause: string | undefined): string {
  if (!cause) return 'Denied by a reviewer.';
  try {
    const parsed = JSON.parse(cause) as { comment?: unknown };
    return typeof parsed.comment === 'string' && parsed.comment ? parsed.comment : 'Denied by a reviewer.';
  } catch {
    return cause.slice(0, 2000);
  }
}

/** Runs one step of the review workflow; every step is idempotent because Step Functions retries. */
export function createReviewTaskHandler(services: Services): (event: unknown) => Promise<{ status: string }> {
  const keys = signingKeysFor(services);
  const to = async (clientId: string, status: 'active' | 'denied' | 'expired' | 'failed', event: Parameters<typeof transition>[1]['event'], data: Record<string, unknown>, outcomeReason?: string) =>
    (
      await transition(services, {
        clientId,
        to: status,
        event,
        actor: SYSTEM,
        data,
        set: { openReviewId: undefined, ...(outcomeReason ? { outcomeReason } : {}) },
      })
    ).status;

  return async (event) => {
    const task = ReviewTaskSchema.parse(event);
    switch (task.action) {
      case 'request_approval': {
        const review = await requestApproval(services, keys, task);
        return { status: `review_round_${review.round}` };
      }
      case 'activate': {
        const consumer = await services.registry.getConsumer(task.clientId);
        const approvers = (consumer?.approvals ?? []).map((a) => a.reviewer);
        // Reviewed consumers authenticate with their registered keys (private_key_jwt): activation is the credential.
        return { status: await to(task.clientId, 'active', 'consumer.activated', { by: 'review', approvers }) };
      }
      case 'deny': {
        const comment = denialComment(task.cause);
        return { status: await to(task.clientId, 'denied', 'consumer.denied', { reason: comment }, comment) };
      }
      case 'expire':
        return { status: await to(task.clientId, 'expired', 'consumer.expired', { reason: 'review_sla_elapsed' }, 'No decision was made within the review period.') };
      case 'fail': {
        const error = JSON.stringify(task.error ?? null).slice(0, 1000);
        return { status: await to(task.clientId, 'failed', 'consumer.review_failed', { error }, 'The review could not be completed.') };
      }
      case 'notify': {
        const consumer = await services.registry.getConsumer(task.clientId);
        const email = consumer && outcomeEmail(consumer, `${services.config.issuer}/register/${encodeURIComponent(consumer.clientId)}`);
        if (email && email.to.length > 0) await services.mailer.send(email);
        return { status: consumer?.status ?? 'unknown' };
      }
    }
  };
}
