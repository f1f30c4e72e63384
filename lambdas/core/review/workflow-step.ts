import { routeUrl } from '../../contracts/routes.js';
import type { Actor } from '../audit/event.js';
import { applyTransition, transition } from '../consumer/transition.js';
import type { RecertificationOutcome, ReviewKind, ReviewOutcome } from '../metrics.js';
import type { Email, Mailer } from '../ports.js';
import { applyApprovedRequest } from '../requests/apply.js';
import type { ChangeRequest } from '../requests/change-request.js';
import { closeRequest, endRequestOfEndedConsumer } from '../requests/open-request.js';
import { hasEnded } from '../consumer/lifecycle.js';
import { denyRecertification, endRecertificationUndecided } from '../recertification/review-outcome.js';
import type { BaseServices, Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { outcomeEmail, requestOutcomeEmail } from './emails.js';
import { MailUnavailable, mailFailure } from './mail-unavailable.js';
import { approvalProgress, requestApproval, type ApprovalProgress } from './request-approval.js';

/** What the review workflow's steps touch. */
export type ReviewStepServices = Needs<'getConsumer' | 'updateConsumer' | 'createReview' | 'getReview' | 'getRequest', 'vault' | 'mailer'>;

/**
 * One step the review state machine (statemachines/onboarding.asl.json) asks for, about an onboarding review
 * (`requestId` null) or a change request's review.
 */
type Ids = { readonly clientId: string; readonly requestId: string | null };
export type ReviewStep = Ids &
  (
    | { readonly action: 'count_approvals'; readonly startedAt?: string | undefined }
    | { readonly action: 'request_approval'; readonly taskToken: string; readonly startedAt?: string | undefined }
    | { readonly action: 'activate' }
    | { readonly action: 'deny'; readonly cause?: string | undefined }
    | { readonly action: 'expire' }
    | { readonly action: 'fail'; readonly error?: unknown }
    | { readonly action: 'notify' }
  );

/** What a step returns to the state machine: a status for the execution history; the first step also reports progress. */
export type ReviewStepResult = { readonly status: string } | ({ readonly status: string } & ApprovalProgress);

const SYSTEM: Actor = { kind: 'system', id: 'review-workflow' };

/** How the end of a recertification request's review is counted (a review that failed for a technical reason: `review_failed`). */
const RECERTIFICATION_REVIEW_OUTCOMES: Partial<Record<ChangeRequest['status'], RecertificationOutcome>> = {
  approved: 'review_confirmed',
  denied: 'review_denied',
  expired: 'review_expired',
  failed: 'review_failed',
};
const EXPIRED = 'No decision was made within the review period.';

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

const failure = (error: unknown): string => JSON.stringify(error ?? null).slice(0, 1000);

/** Records how long a request waited for its review outcome (only by the step that applied the outcome, not its retries). */
function recordReviewLatency(services: BaseServices, kind: ReviewKind, outcome: ReviewOutcome, requestedAt: string): void {
  const seconds = (services.clock.now().getTime() - Date.parse(requestedAt)) / 1000;
  if (Number.isFinite(seconds)) services.metrics.record('ReviewLatency', { kind, outcome }, Math.max(0, seconds));
}

/**
 * Runs one step of the review workflow. Every step is idempotent because Step Functions retries: a decision already
 * applied is not applied again, and only the call that applied it records the review's latency.
 */
export async function runReviewStep(services: ReviewStepServices, keys: SigningKeyCache, step: ReviewStep): Promise<ReviewStepResult> {
  if (step.action === 'count_approvals') return { status: 'counted', ...(await approvalProgress(services, step)) };
  if (step.action === 'request_approval') {
    const review = await requestApproval(services, keys, step);
    return { status: `review_round_${review.round}` };
  }
  if (step.requestId !== null) return requestStep(services, { ...step, requestId: step.requestId });
  return onboardingStep(services, step);
}

type OutcomeStep = Exclude<ReviewStep, { action: 'count_approvals' | 'request_approval' }>;

/** An onboarding review's outcome: the consumer's new status. */
async function onboardingStep(services: ReviewStepServices, step: OutcomeStep): Promise<{ status: string }> {
  const to = (
    status: 'active' | 'denied' | 'expired' | 'failed',
    event: Parameters<typeof transition>[1]['event'],
    data: Record<string, unknown>,
    reason?: string,
  ) =>
    applyTransition(services, {
      clientId: step.clientId,
      to: status,
      event,
      actor: SYSTEM,
      data,
      set: { openReviewId: undefined, ...(reason ? { outcomeReason: reason } : {}) },
      // A registration that ended meanwhile (its requester withdrew it: RFC 7592 delete) stays as it is: the review's
      // outcome no longer applies, and the step has nothing to do.
      unless: (consumer) => hasEnded(consumer.status),
    });
  const outcome = async (reviewOutcome: ReviewOutcome, change: ReturnType<typeof to>): Promise<{ status: string }> => {
    const { consumer, applied } = await change;
    if (applied) recordReviewLatency(services, 'onboarding', reviewOutcome, consumer.createdAt);
    return { status: consumer.status };
  };
  switch (step.action) {
    case 'activate': {
      const consumer = await services.consumers.getConsumer(step.clientId);
      const approvers = (consumer?.approvals ?? []).map((a) => a.reviewer);
      // Reviewed consumers authenticate with their registered keys (private_key_jwt): activation is the credential.
      return outcome('approved', to('active', 'consumer.activated', { by: 'review', approvers }));
    }
    case 'deny': {
      const comment = denialComment(step.cause);
      return outcome('denied', to('denied', 'consumer.denied', { reason: comment }, comment));
    }
    case 'expire':
      return outcome('expired', to('expired', 'consumer.expired', { reason: 'review_sla_elapsed' }, EXPIRED));
    case 'fail':
      return { status: (await to('failed', 'consumer.review_failed', { error: failure(step.error) }, 'The review could not be completed.')).consumer.status };
    case 'notify': {
      const consumer = await services.consumers.getConsumer(step.clientId);
      const email = consumer && outcomeEmail(consumer, routeUrl(services.config.issuer, 'readRegistration', { client_id: consumer.clientId }));
      if (email && email.to.length > 0) await sendOutcome(services, email, { clientId: step.clientId });
      return { status: consumer?.status ?? 'unknown' };
    }
  }
}

/** One step of the review of a change request (exception, reinstatement): the same steps, applied to the request. */
async function requestStep(services: ReviewStepServices, step: OutcomeStep & { readonly requestId: string }): Promise<{ status: string }> {
  const { clientId, requestId } = step;
  if (step.action !== 'notify') {
    // A consumer whose registration ended (revoked) while its request was reviewed: the request ends with nothing applied.
    const ended = await endRequestOfEndedConsumer(services, clientId, requestId);
    if (ended) return { status: ended.status };
  }
  const before = step.action === 'notify' ? undefined : await services.requests.getRequest(clientId, requestId);
  const recertification = before?.type === 'recertification';
  const outcome = async (reviewOutcome: ReviewOutcome | undefined, apply: () => Promise<ChangeRequest>): Promise<{ status: string }> => {
    const after = await apply();
    if (before?.status === 'pending_review' && after.status !== 'pending_review') {
      if (reviewOutcome) recordReviewLatency(services, before.type, reviewOutcome, before.createdAt);
      const counted = recertification ? RECERTIFICATION_REVIEW_OUTCOMES[after.status] : undefined;
      if (counted) services.metrics.record('RecertificationOutcomes', { outcome: counted });
    }
    return { status: after.status };
  };
  switch (step.action) {
    case 'activate':
      return outcome('approved', () => applyApprovedRequest(services, clientId, requestId));
    case 'deny': {
      const comment = denialComment(step.cause);
      if (recertification) return outcome('denied', () => denyRecertification(services, clientId, requestId, comment));
      return outcome('denied', () => closeRequest(services, clientId, requestId, 'denied', 'request.denied', SYSTEM, comment));
    }
    case 'expire':
      if (recertification)
        return outcome('expired', () =>
          endRecertificationUndecided(services, clientId, requestId, { status: 'expired', event: 'request.expired', reason: EXPIRED }),
        );
      return outcome('expired', () => closeRequest(services, clientId, requestId, 'expired', 'request.expired', SYSTEM, EXPIRED));
    case 'fail': {
      const reason = `The review could not be completed: ${failure(step.error)}`;
      if (recertification)
        return outcome(undefined, () => endRecertificationUndecided(services, clientId, requestId, { status: 'failed', event: 'request.failed', reason }));
      return { status: (await closeRequest(services, clientId, requestId, 'failed', 'request.failed', SYSTEM, reason)).status };
    }
    case 'notify': {
      const [consumer, request] = await Promise.all([services.consumers.getConsumer(clientId), services.requests.getRequest(clientId, requestId)]);
      const email = consumer && request && requestOutcomeEmail(consumer, request);
      if (email) await sendOutcome(services, email, { clientId, requestId });
      return { status: request?.status ?? 'unknown' };
    }
  }
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
