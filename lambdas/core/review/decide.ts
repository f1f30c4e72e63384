import { bankDomains } from './addresses.js';
import { chainEvent } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import type { Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { ReviewError } from './errors.js';
import { formatDateTime } from './format.js';
import { verifyReviewLink, type ReviewLinkClaims } from './link-token.js';
import type { ChangeRequest } from '../requests/change-request.js';
import { mayReview, type Approval, type Review } from './review.js';

export type Decision = 'approve' | 'deny';

/** What a review page shows: the round, the consumer, and who is looking. */
export interface ReviewView {
  readonly review: Review;
  readonly consumer: Consumer;
  /** The change request under review, when the round is not a new consumer's onboarding. */
  readonly request?: ChangeRequest | undefined;
  readonly link: ReviewLinkClaims;
}

/** The refusal for a link whose round is no longer open: who decided it and when, or which email replaced it. */
export function closedRoundError(review: Review, reviewer: string): ReviewError {
  if (review.status === 'superseded') {
    return new ReviewError('link_expired', 'This link was replaced by a newer review email for the same request.', {
      next: 'Use the link in the latest review email.',
    });
  }
  const verb = review.status === 'approved' ? 'approved' : 'denied';
  const when = review.decidedAt ? ` on ${formatDateTime(review.decidedAt)}` : '';
  if (review.decidedBy !== undefined && review.decidedBy.toLowerCase() === reviewer.toLowerCase()) {
    return new ReviewError('already_decided', `This link was already used by you${when}: you ${verb} the request.`);
  }
  const who = review.decidedBy ? `Another reviewer, ${review.decidedBy},` : 'Another reviewer';
  const more = review.status === 'approved' && review.round < review.approvalsRequired;
  return new ReviewError('already_decided', `${who} already ${verb} this request${when} (approval ${review.round} of ${review.approvalsRequired}).`, {
    next: more ? 'Nothing more is needed from this link. The next approval is asked for in a new review email.' : 'Nothing more is needed from you.',
  });
}

/** The refusal for a decision after the round's deadline. */
export function periodEndedError(review: Review): ReviewError {
  return new ReviewError('link_expired', `The review period ended on ${formatDateTime(review.deadline)}, so the request has expired.`, {
    next: 'Nothing more is needed from you. The requester may submit the request again.',
  });
}

const STATUS_WORDS: Record<string, string> = {
  active: 'approved and active',
  approved: 'approved',
  pending_review: 'waiting for review',
  failed: 'closed after a technical failure',
};

/**
 * The refusal for a link whose request ended while its round was still open (its requester withdrew it), or undefined
 * while the request is still waiting for review.
 */
export function endedRequestError(view: Pick<ReviewView, 'consumer' | 'request'>): ReviewError | undefined {
  const current = view.request ? view.request.status : view.consumer.status;
  if (current === 'pending_review') return undefined;
  if (current === 'withdrawn') {
    return new ReviewError('already_decided', 'This request has ended: its requester withdrew it before the review was complete.');
  }
  return new ReviewError('already_decided', `This request is already ${STATUS_WORDS[current] ?? current}.`);
}

/** The error name the workflow catches to end a request as denied (statemachines/onboarding.asl.json). */
export const DENIED_ERROR = 'Gatehouse.Denied';

/** Loads what a link shows, checking the link (signature, expiry, reviewer binding). Changes nothing. */
export async function openReview(
  services: Needs<'getReview' | 'getConsumer' | 'getRequest'>,
  keys: SigningKeyCache,
  reviewId: string,
  token: string,
): Promise<ReviewView> {
  const now = services.clock.now();
  const link = await verifyReviewLink(keys, services.config.issuer, token, reviewId, now);
  const review = await services.reviews.getReview(reviewId);
  if (!review || !review.reviewers.some((r) => r.email === link.reviewer && r.linkId === link.linkId)) {
    throw new ReviewError('link_invalid', 'This review link is not valid.');
  }
  const consumer = await services.consumers.getConsumer(review.clientId);
  if (!consumer) throw new ReviewError('link_invalid', 'This review link is not valid.');
  if (review.requestId === undefined) return { review, consumer, link };
  const request = await services.requests.getRequest(review.clientId, review.requestId);
  if (!request) throw new ReviewError('link_invalid', 'This review link is not valid.');
  return { review, consumer, request, link };
}

/**
 * Records a reviewer's decision and resumes the workflow. The decision and its audit event are written first, in one
 * transaction that only succeeds while the round is open (so a link works once); then the task token is sent. If
 * sending fails, the same reviewer can submit the same decision again to resend it: no decision is lost.
 */
export async function decideReview(
  services: Needs<'getReview' | 'getConsumer' | 'getRequest' | 'decideReview' | 'markReviewDelivered', 'workflow'>,
  keys: SigningKeyCache,
  input: { readonly reviewId: string; readonly token: string; readonly decision: Decision; readonly comment: string },
): Promise<{ readonly review: Review; readonly consumer: Consumer; readonly approvals: readonly Approval[] }> {
  const now = services.clock.now();
  const { review, consumer, request, link } = await openReview(services, keys, input.reviewId, input.token);
  const comment = input.comment.trim().slice(0, 2000);
  const status = input.decision === 'approve' ? 'approved' : 'denied';

  if (review.status === 'superseded') throw closedRoundError(review, link.reviewer);
  if (review.status !== 'open') {
    const resend = review.deliveredAt === undefined && review.decidedBy === link.reviewer && review.status === status;
    if (!resend) throw closedRoundError(review, link.reviewer);
    const approvals = (request ? request.approvals : consumer.approvals) ?? [];
    await deliver(services, review, approvals.length);
    return { review, consumer, approvals };
  }
  if (Date.parse(review.deadline) <= now.getTime()) throw periodEndedError(review);
  const approvals = (request ? request.approvals : consumer.approvals) ?? [];
  const ended = endedRequestError({ consumer, request });
  if (ended) throw ended;
  const excluded = request ? [...consumer.contacts, request.requestedBy] : consumer.contacts;
  if (!mayReview(link.reviewer, excluded, approvals, bankDomains(services.config.reviewers, services.config.operators))) {
    throw new ReviewError('not_eligible', 'You cannot review this request: you are one of its contacts or its requester, or already approved it.');
  }
  if (input.decision === 'deny' && comment.length === 0) throw new ReviewError('comment_required', 'Say why you deny the request.');

  const at = now.toISOString();
  const nextApprovals =
    input.decision === 'approve' ? [...approvals, { reviewer: link.reviewer, round: review.round, at, ...(comment ? { comment } : {}) }] : approvals;
  const audit = chainEvent(
    { seq: consumer.auditSeq, head: consumer.auditHead },
    {
      clientId: consumer.clientId,
      type: request
        ? input.decision === 'approve'
          ? 'request.review_approved'
          : 'request.review_denied'
        : input.decision === 'approve'
          ? 'consumer.review_approved'
          : 'consumer.review_denied',
      at,
      actor: { kind: 'reviewer', id: link.reviewer },
      data: { reviewId: review.reviewId, ...(request ? { requestId: request.requestId } : {}), round: review.round, comment },
    },
  );
  const decided: Review = { ...review, status, decidedBy: link.reviewer, decidedAt: at, comment };
  const outcome = input.decision === 'deny' ? { outcomeReason: comment } : {};
  try {
    await services.reviews.decideReview(
      review.reviewId,
      { status, decidedBy: link.reviewer, decidedAt: at, comment },
      request
        ? {
            clientId: consumer.clientId,
            expect: { statuses: [consumer.status], auditSeq: consumer.auditSeq },
            set: { updatedAt: at },
            audit,
            request: {
              requestId: request.requestId,
              expect: { statuses: ['pending_review'], version: request.version },
              set: { approvals: nextApprovals, openReviewId: undefined, updatedAt: at, ...outcome },
            },
          }
        : {
            clientId: consumer.clientId,
            expect: { statuses: ['pending_review'], auditSeq: consumer.auditSeq },
            set: { approvals: nextApprovals, openReviewId: undefined, updatedAt: at, ...outcome },
            audit,
          },
    );
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'condition_failed') {
      throw new ReviewError('already_decided', 'Someone decided this review a moment ago.', {
        cause: error,
        next: 'Open your review link again to see who decided it and how.',
      });
    }
    throw error;
  }
  services.metrics.record('ReviewsDecided', { decision: input.decision });
  const updated: Consumer = request ? consumer : { ...consumer, approvals: nextApprovals };
  await deliver(services, decided, nextApprovals.length);
  return { review: decided, consumer: updated, approvals: nextApprovals };
}

async function deliver(services: Needs<'markReviewDelivered', 'workflow'>, review: Review, approvalsGranted: number): Promise<void> {
  try {
    if (review.status === 'approved') {
      // The next round's wait (statemachines/onboarding.asl.json NextRound): what is left of the request's one deadline.
      const remainingSeconds = Math.max(1, Math.ceil((Date.parse(review.deadline) - services.clock.now().getTime()) / 1000));
      await services.workflow.sendTaskSuccess(review.taskToken, { approvalsGranted, reviewId: review.reviewId, remainingSeconds });
    } else {
      await services.workflow.sendTaskFailure(review.taskToken, DENIED_ERROR, JSON.stringify({ reviewer: review.decidedBy, comment: review.comment ?? '' }));
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TaskTimedOut' || name === 'InvalidToken' || name === 'TaskDoesNotExist') {
      throw new ReviewError('link_expired', 'The review period ended before your decision arrived, so it was not counted.', {
        cause: error,
        next: 'Nothing more is needed from you. The request has expired; the requester may submit it again.',
      });
    }
    services.log.error('review decision not delivered', { reviewId: review.reviewId, error: name });
    throw new ServiceError('dependency_unavailable', 'Your decision is recorded but could not reach the workflow yet; submit it again in a moment.', {
      cause: error,
      retryAfterSeconds: 10,
    });
  }
  // The decision is recorded and delivered; failing to note the delivery must not tell the reviewer otherwise.
  await services.reviews
    .markReviewDelivered(review.reviewId, services.clock.now())
    .catch((error: unknown) => services.log.warn('review delivery not marked', { reviewId: review.reviewId, error: (error as Error).name }));
}
