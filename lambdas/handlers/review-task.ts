import * as z from 'zod/mini';
import '../core/util/zod-messages.js';
import type { Actor } from '../core/audit/event.js';
import { applyTransition, transition } from '../core/consumer/transition.js';
import { withLogKeys } from '../core/log-context.js';
import type { ReviewKind, ReviewOutcome } from '../core/metrics.js';
import type { ChangeRequest } from '../core/requests/change-request.js';
import { reviewExecutionName } from '../core/review/execution-name.js';
import type { BaseServices, Needs } from '../core/services.js';
import { outcomeEmail, requestOutcomeEmail } from '../core/review/emails.js';
import { applyApprovedRequest } from '../core/requests/apply.js';
import { closeRequest } from '../core/requests/open-request.js';
import { MailUnavailable, mailFailure } from '../core/review/mail-unavailable.js';
import type { Email, Mailer } from '../core/ports.js';
import { approvalProgress, requestApproval, type ApprovalProgress } from '../core/review/request-approval.js';
import { signingKeysFor, type SigningKeyCache } from '../core/tokens/signing-keys.js';

/** What the review workflow's tasks touch. */
type ReviewTaskServices = Needs<'getConsumer' | 'updateConsumer' | 'createReview' | 'getReview' | 'getRequest', 'vault' | 'mailer'>;

const SYSTEM: Actor = { kind: 'system', id: 'review-workflow' };

/** The payloads the review state machine sends (statemachines/onboarding.asl.json); `requestId` is null for onboarding. */
const nonEmpty = () => z.string().check(z.minLength(1));
const base = { clientId: nonEmpty(), requestId: z._default(z.nullable(nonEmpty()), null) };
export const ReviewTaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('count_approvals'), ...base, startedAt: z.optional(z.iso.datetime()) }),
  z.object({ action: z.literal('request_approval'), ...base, taskToken: nonEmpty(), startedAt: z.optional(z.iso.datetime()) }),
  z.object({ action: z.literal('activate'), ...base }),
  z.object({ action: z.literal('deny'), ...base, cause: z.optional(z.string()) }),
  z.object({ action: z.literal('expire'), ...base }),
  z.object({ action: z.literal('fail'), ...base, error: z.unknown() }),
  z.object({ action: z.literal('notify'), ...base }),
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

/** Records how long a request waited for its review outcome (only by the step that applied the outcome, not its retries). */
function recordReviewLatency(services: BaseServices, kind: ReviewKind, outcome: ReviewOutcome, requestedAt: string): void {
  const seconds = (services.clock.now().getTime() - Date.parse(requestedAt)) / 1000;
  if (Number.isFinite(seconds)) services.metrics.record('ReviewLatency', { kind, outcome }, Math.max(0, seconds));
}

/**
 * Runs one step of the review workflow; every step is idempotent because Step Functions retries. Its log lines carry the
 * workflow execution as `correlation_id` (and the consumer and step), and the metrics it recorded are published at its end.
 */
/** What a step returns to the state machine: a status for the execution history; the first step also reports progress. */
export type ReviewTaskResult = { readonly status: string } | ({ readonly status: string } & ApprovalProgress);

export function createReviewTaskHandler(services: ReviewTaskServices): (event: unknown) => Promise<ReviewTaskResult> {
  const keys = signingKeysFor(services);
  const to = async (
    clientId: string,
    status: 'active' | 'denied' | 'expired' | 'failed',
    event: Parameters<typeof transition>[1]['event'],
    data: Record<string, unknown>,
    outcomeReason?: string,
  ) =>
    applyTransition(services, {
      clientId,
      to: status,
      event,
      actor: SYSTEM,
      data,
      set: { openReviewId: undefined, ...(outcomeReason ? { outcomeReason } : {}) },
    });
  /** An onboarding review's outcome: the consumer's new status, and its latency when this call applied it. */
  const outcome = async (reviewOutcome: ReviewOutcome, change: ReturnType<typeof to>): Promise<{ status: string }> => {
    const { consumer, applied } = await change;
    if (applied) recordReviewLatency(services, 'onboarding', reviewOutcome, consumer.createdAt);
    return { status: consumer.status };
  };

  const step = async (task: ReviewTask): Promise<ReviewTaskResult> => {
    if (task.action === 'count_approvals') return { status: 'counted', ...(await approvalProgress(services, task)) };
    if (task.requestId !== null) return changeRequestTask(services, keys, { ...task, requestId: task.requestId });
    switch (task.action) {
      case 'request_approval': {
        const review = await requestApproval(services, keys, task);
        return { status: `review_round_${review.round}` };
      }
      case 'activate': {
        const consumer = await services.consumers.getConsumer(task.clientId);
        const approvers = (consumer?.approvals ?? []).map((a) => a.reviewer);
        // Reviewed consumers authenticate with their registered keys (private_key_jwt): activation is the credential.
        return outcome('approved', to(task.clientId, 'active', 'consumer.activated', { by: 'review', approvers }));
      }
      case 'deny': {
        const comment = denialComment(task.cause);
        return outcome('denied', to(task.clientId, 'denied', 'consumer.denied', { reason: comment }, comment));
      }
      case 'expire':
        return outcome(
          'expired',
          to(task.clientId, 'expired', 'consumer.expired', { reason: 'review_sla_elapsed' }, 'No decision was made within the review period.'),
        );
      case 'fail': {
        const error = JSON.stringify(task.error ?? null).slice(0, 1000);
        return { status: (await to(task.clientId, 'failed', 'consumer.review_failed', { error }, 'The review could not be completed.')).consumer.status };
      }
      case 'notify': {
        const consumer = await services.consumers.getConsumer(task.clientId);
        const email = consumer && outcomeEmail(consumer, `${services.config.issuer}/register/${encodeURIComponent(consumer.clientId)}`);
        if (email && email.to.length > 0) await sendOutcome(services, email, { clientId: task.clientId });
        return { status: consumer?.status ?? 'unknown' };
      }
    }
  };

  return async (event) => {
    const task = ReviewTaskSchema.parse(event);
    return withLogKeys({ correlation_id: reviewExecutionName(task), clientId: task.clientId, action: task.action }, async () => {
      try {
        return await step(task);
      } finally {
        services.metrics.flush();
      }
    });
  };
}

/**
 * Sends a requester's outcome email. A failure is logged at ERROR with the request's ids and thrown as MailUnavailable,
 * which the workflow retries for about a day before giving up (the outcome itself is already recorded).
 */
async function sendOutcome(
  services: Pick<BaseServices, 'log'> & { readonly mailer: Mailer },
  email: Email,
  ids: { clientId: string; requestId?: string },
): Promise<void> {
  try {
    await services.mailer.send(email);
  } catch (error) {
    services.log.error('outcome email not sent', { ...ids, ...mailFailure(error) });
    throw new MailUnavailable(`The outcome email could not be sent: ${mailFailure(error).message}`, { cause: error });
  }
}

/** A change request's review outcome, with its latency when this call applied it (the request was still pending before). */
async function requestOutcome(
  services: ReviewTaskServices,
  task: { clientId: string; requestId: string },
  reviewOutcome: ReviewOutcome,
  apply: () => Promise<ChangeRequest>,
): Promise<{ status: string }> {
  const before = await services.requests.getRequest(task.clientId, task.requestId);
  const after = await apply();
  if (before?.status === 'pending_review' && after.status !== 'pending_review') recordReviewLatency(services, before.type, reviewOutcome, before.createdAt);
  return { status: after.status };
}

/** One step of the review of a change request (exception, reinstatement): the same steps, applied to the request. */
async function changeRequestTask(
  services: ReviewTaskServices,
  keys: SigningKeyCache,
  task: Exclude<ReviewTask, { action: 'count_approvals' }> & { requestId: string },
): Promise<{ status: string }> {
  const { clientId, requestId } = task;
  switch (task.action) {
    case 'request_approval': {
      const review = await requestApproval(services, keys, task);
      return { status: `review_round_${review.round}` };
    }
    case 'activate':
      return requestOutcome(services, task, 'approved', () => applyApprovedRequest(services, clientId, requestId));
    case 'deny': {
      const comment = denialComment(task.cause);
      return requestOutcome(services, task, 'denied', () => closeRequest(services, clientId, requestId, 'denied', 'request.denied', SYSTEM, comment));
    }
    case 'expire':
      return requestOutcome(services, task, 'expired', () =>
        closeRequest(services, clientId, requestId, 'expired', 'request.expired', SYSTEM, 'No decision was made within the review period.'),
      );
    case 'fail': {
      const error = JSON.stringify(task.error ?? null).slice(0, 1000);
      return {
        status: (await closeRequest(services, clientId, requestId, 'failed', 'request.failed', SYSTEM, `The review could not be completed: ${error}`)).status,
      };
    }
    case 'notify': {
      const [consumer, request] = await Promise.all([services.consumers.getConsumer(clientId), services.requests.getRequest(clientId, requestId)]);
      const email = consumer && request && requestOutcomeEmail(consumer, request);
      if (email) await sendOutcome(services, email, { clientId, requestId });
      return { status: request?.status ?? 'unknown' };
    }
  }
}
