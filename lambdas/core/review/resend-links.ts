import { randomUUID } from 'node:crypto';
import { operatorActor, type Operator } from '../admin/operators.js';
import { chainEvent } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import type { Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { mailFailure } from './mail-unavailable.js';
import { emailReviewLinks } from './request-approval.js';

/** What resending touches: the consumer, its change request, the open round, and the mailer. */
export type ResendLinksServices = Needs<'getConsumer' | 'getRequest' | 'getReview' | 'renewReviewLinks', 'mailer'>;

export interface ResentLinks {
  readonly reviewId: string;
  readonly round: number;
  readonly deadline: string;
  /** The round's reviewers, each sent a fresh link. */
  readonly recipients: readonly string[];
  /** Recipients whose email could not be sent (logged); an operator may resend again. */
  readonly notSent: readonly string[];
}

/**
 * An operator's resend of a pending review's links (a reviewer lost the email, or it never arrived): the open round's
 * reviewers, none of whom has decided it (a decision closes the round), each get a fresh single-use link. The round's
 * links are renewed first, with an audited `review.links_resent` event, so the earlier links stop working before the new
 * ones go out. Only a consumer or change request pending review with an open round qualifies: anything else is a
 * conflict, and nothing is changed.
 */
export async function resendReviewLinks(
  services: ResendLinksServices,
  keys: SigningKeyCache,
  operator: Operator,
  target: { readonly clientId: string; readonly requestId?: string | undefined },
): Promise<ResentLinks> {
  const now = services.clock.now();
  const consumer = await services.consumers.getConsumer(target.clientId);
  if (!consumer) throw new ServiceError('not_found', 'No such consumer.');
  let reviewId: string | undefined;
  const request = target.requestId ? await services.requests.getRequest(target.clientId, target.requestId) : undefined;
  if (target.requestId) {
    if (!request) throw new ServiceError('not_found', 'No such request.');
    if (request.status !== 'pending_review')
      throw new ServiceError('conflict', `Request ${request.requestId} is ${request.status}, not pending review: there are no links to resend.`);
    reviewId = request.openReviewId;
  } else {
    if (consumer.status !== 'pending_review')
      throw new ServiceError('conflict', `Consumer ${consumer.clientId} is ${consumer.status}, not pending review: there are no links to resend.`);
    reviewId = consumer.openReviewId;
  }
  const review = reviewId ? await services.reviews.getReview(reviewId) : undefined;
  if (!review || review.status !== 'open') {
    throw new ServiceError(
      'conflict',
      'No review round is open right now (the review workflow is between rounds or retrying); its next round sends new links.',
    );
  }
  if (Date.parse(review.deadline) <= now.getTime()) throw new ServiceError('conflict', 'The review period has ended; the review expires without new links.');

  const reviewers = review.reviewers.map(({ email }) => ({ email, linkId: randomUUID() }));
  const audit = chainEvent(
    { seq: consumer.auditSeq, head: consumer.auditHead },
    {
      clientId: consumer.clientId,
      type: 'review.links_resent',
      at: now.toISOString(),
      actor: operatorActor(operator),
      data: {
        reviewId: review.reviewId,
        ...(review.requestId ? { requestId: review.requestId } : {}),
        round: review.round,
        reviewers: reviewers.map((r) => r.email),
      },
    },
  );
  try {
    await services.reviews.renewReviewLinks(
      review.reviewId,
      { previous: review.reviewers, reviewers },
      { clientId: consumer.clientId, expect: { statuses: [consumer.status], auditSeq: consumer.auditSeq }, set: { updatedAt: now.toISOString() }, audit },
    );
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'condition_failed') {
      throw new ServiceError('conflict', 'The review changed while the links were renewed (decided, or links resent meanwhile); nothing was changed.', {
        cause: error,
      });
    }
    throw error;
  }
  const renewed = { ...review, reviewers };
  const { sent, lastFailure } = await emailReviewLinks(services, keys, { review: renewed, consumer, request }, now);
  services.log.info('review links resent', {
    clientId: consumer.clientId,
    reviewId: review.reviewId,
    round: review.round,
    reviewers: reviewers.length,
    emailed: sent.length,
  });
  if (sent.length === 0) {
    // The old links ended with the renewal: say so, so that the operator resends once mail works again.
    throw new ServiceError(
      'dependency_unavailable',
      `The links of review ${review.reviewId} were renewed but no email could be sent (${mailFailure(lastFailure).message}); the earlier links no longer work, so resend them again.`,
      { cause: lastFailure, retryAfterSeconds: 60 },
    );
  }
  return {
    reviewId: review.reviewId,
    round: review.round,
    deadline: review.deadline,
    recipients: reviewers.map((r) => r.email),
    notSent: reviewers.map((r) => r.email).filter((e) => !sent.includes(e)),
  };
}
