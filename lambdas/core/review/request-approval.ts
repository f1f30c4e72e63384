import { randomUUID } from 'node:crypto';
import { chainEvent, type Actor } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import type { Services } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { sha256Hex } from '../util/hash.js';
import { reviewerEmail } from './emails.js';
import { ReviewError } from './errors.js';
import { signReviewLink } from './link-token.js';
import { eligibleReviewers, type Review } from './review.js';

const WORKFLOW: Actor = { kind: 'system', id: 'review-workflow' };

/** Stores a new review round for the consumer's next approval, with its audit event. */
async function openRound(services: Services, reviewId: string, input: { clientId: string; taskToken: string }, now: Date): Promise<Review> {
  const consumer = await services.registry.getConsumer(input.clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${input.clientId}`);
  if (consumer.status !== 'pending_review') throw new ServiceError('conflict', `Consumer ${input.clientId} is ${consumer.status}, not pending review`);
  const approvals = consumer.approvals ?? [];
  const groups = services.config.reviewers;
  const eligible = eligibleReviewers(groups[consumer.risk] ?? groups.default, consumer.contacts, approvals);
  if (eligible.length === 0) {
    throw new ReviewError('no_eligible_reviewer', `No eligible reviewer is left for ${consumer.clientId} (contacts and earlier approvers are excluded).`);
  }
  const review: Review = {
    reviewId,
    clientId: consumer.clientId,
    round: approvals.length + 1,
    approvalsRequired: consumer.requirements.approvals,
    taskToken: input.taskToken,
    reviewers: eligible.map((email) => ({ email, linkId: randomUUID() })),
    status: 'open',
    createdAt: now.toISOString(),
    deadline: new Date(now.getTime() + consumer.requirements.reviewSlaHours * 3_600_000).toISOString(),
  };
  const audit = chainEvent(
    { seq: consumer.auditSeq, head: consumer.auditHead },
    {
      clientId: consumer.clientId,
      type: 'consumer.review_requested',
      at: now.toISOString(),
      actor: WORKFLOW,
      data: { reviewId, round: review.round, reviewers: eligible, deadline: review.deadline },
    },
  );
  await services.registry.createReview(review, {
    clientId: consumer.clientId,
    expect: { statuses: ['pending_review'], auditSeq: consumer.auditSeq },
    set: { openReviewId: reviewId, updatedAt: now.toISOString() },
    audit,
  });
  return review;
}

/**
 * Opens one review round for the workflow's parked task: picks the eligible reviewers (never a requester's contact,
 * never someone who already approved), stores the round with its task token, and emails each reviewer their own link.
 * Idempotent per task token: a retried task finds its round and sends the emails again.
 */
export async function requestApproval(services: Services, keys: SigningKeyCache, input: { clientId: string; taskToken: string }): Promise<Review> {
  const now = services.clock.now();
  const reviewId = sha256Hex(`review:${input.taskToken}`).slice(0, 32);
  let review = await services.registry.getReview(reviewId);
  for (let attempt = 1; !review; attempt++) {
    try {
      review = await openRound(services, reviewId, input, now);
    } catch (error) {
      if (!(error instanceof RegistryError && error.code === 'condition_failed')) throw error;
      // The same task retried concurrently stored the round: use it. The consumer changed under us: read it again.
      review = await services.registry.getReview(reviewId);
      if (!review && (error.item === 'review' || attempt >= 4)) throw error;
    }
  }
  const consumer = (await services.registry.getConsumer(review.clientId))!;
  for (const { email, linkId } of review.reviewers) {
    const token = await signReviewLink(keys, services.config.issuer, { reviewId, reviewer: email, linkId }, new Date(review.deadline), now);
    const link = `${services.config.issuer}/reviews/${reviewId}?t=${encodeURIComponent(token)}`;
    await services.mailer.send(reviewerEmail(consumer, review, email, link, services.policy));
  }
  services.log.info('review requested', { clientId: review.clientId, reviewId, round: review.round, reviewers: review.reviewers.length });
  return review;
}
