import { routeUrl } from '../../contracts/routes.js';
import { randomUUID } from 'node:crypto';
import { chainEvent, type Actor } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import type { Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { sha256Hex } from '../util/hash.js';
import { reviewerEmail } from './emails.js';
import { ReviewError } from './errors.js';
import { signReviewLink } from './link-token.js';
import { MailUnavailable, mailFailure } from './mail-unavailable.js';
import { RequestEnded } from './request-ended.js';
import { endRequestOfEndedConsumer } from '../requests/open-request.js';
import type { RiskLevel } from '../policy/schema.js';
import type { ChangeRequest } from '../requests/change-request.js';
import type { Consumer } from '../consumer/consumer.js';
import { bankDomains } from './addresses.js';
import { eligibleReviewers, type Approval, type Review } from './review.js';

const WORKFLOW: Actor = { kind: 'system', id: 'review-workflow' };

/** What a review round is about: a new consumer (onboarding) or one of its change requests. */
interface Subject {
  readonly risk: RiskLevel;
  readonly contacts: readonly string[];
  readonly approvals: readonly Approval[];
  readonly approvalsRequired: number;
  readonly reviewSlaHours: number;
}

/** Stores a new review round for the next approval of a consumer or change request, with its audit event. */
async function openRound(services: Needs<'getConsumer' | 'getRequest' | 'createReview'>, reviewId: string, input: ApprovalTask, now: Date): Promise<Review> {
  const consumer = await services.consumers.getConsumer(input.clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${input.clientId}`);
  let subject: Subject;
  let request: ChangeRequest | undefined;
  if (input.requestId) {
    request = await services.requests.getRequest(input.clientId, input.requestId);
    if (!request) throw new ServiceError('not_found', `No request ${input.requestId}`);
    if (request.status !== 'pending_review') throw new RequestEnded(`Request ${input.requestId} is ${request.status}: nothing is left to review.`);
    subject = {
      risk: request.risk,
      contacts: consumer.contacts,
      approvals: request.approvals,
      approvalsRequired: request.approvalsRequired,
      reviewSlaHours: request.reviewSlaHours,
    };
  } else {
    if (consumer.status !== 'pending_review') throw new RequestEnded(`Consumer ${input.clientId} is ${consumer.status}: nothing is left to review.`);
    const r = consumer.requirements;
    subject = {
      risk: consumer.risk,
      contacts: consumer.contacts,
      approvals: consumer.approvals ?? [],
      approvalsRequired: r.approvals,
      reviewSlaHours: r.reviewSlaHours,
    };
  }
  const groups = services.config.reviewers;
  // The consumer's own contacts never review a change to it, and the operator who asked for one never approves it.
  const excluded = [...subject.contacts, ...(request ? [request.requestedBy] : [])];
  const domains = bankDomains(groups, services.config.operators);
  const eligible = eligibleReviewers(groups[subject.risk] ?? groups.default, excluded, subject.approvals, domains);
  // Fail closed: a round that could not be followed by enough distinct approvers would leave the request to too few people.
  const needed = Math.max(1, subject.approvalsRequired - subject.approvals.length);
  if (eligible.length < needed) {
    throw new ReviewError(
      'no_eligible_reviewer',
      `Too few eligible reviewers are left for ${input.requestId ?? consumer.clientId}: ${needed} more approval(s) needed, ${eligible.length} reviewer(s) eligible (contacts, the requester and earlier approvers are excluded).`,
    );
  }
  const review: Review = {
    reviewId,
    clientId: consumer.clientId,
    ...(request ? { requestId: request.requestId } : {}),
    round: subject.approvals.length + 1,
    approvalsRequired: subject.approvalsRequired,
    taskToken: input.taskToken,
    reviewers: eligible.map((email) => ({ email, linkId: randomUUID() })),
    status: 'open',
    createdAt: now.toISOString(),
    deadline: reviewDeadline(input, subject.reviewSlaHours, now).toISOString(),
  };
  const audit = chainEvent(
    { seq: consumer.auditSeq, head: consumer.auditHead },
    {
      clientId: consumer.clientId,
      type: request ? 'request.review_requested' : 'consumer.review_requested',
      at: now.toISOString(),
      actor: WORKFLOW,
      data: { reviewId, ...(request ? { requestId: request.requestId } : {}), round: review.round, reviewers: eligible, deadline: review.deadline },
    },
  );
  // A retried task (a new task token) supersedes the round its failed attempt opened: only the newest links work.
  const previous = request ? request.openReviewId : consumer.openReviewId;
  await services.reviews.createReview(
    review,
    {
      clientId: consumer.clientId,
      expect: { statuses: request ? [consumer.status] : ['pending_review'], auditSeq: consumer.auditSeq },
      set: request ? { updatedAt: now.toISOString() } : { openReviewId: reviewId, updatedAt: now.toISOString() },
      audit,
      ...(request
        ? {
            request: {
              requestId: request.requestId,
              expect: { statuses: ['pending_review'], version: request.version },
              set: { openReviewId: reviewId, updatedAt: now.toISOString() },
            },
          }
        : {}),
    },
    previous !== undefined && previous !== reviewId ? previous : undefined,
  );
  return review;
}

/** The workflow's parked task: which consumer, which change request (null: onboarding), and the task token. */
export interface ApprovalTask {
  readonly clientId: string;
  readonly requestId?: string | null | undefined;
  readonly taskToken: string;
  /**
   * When the review workflow's execution started (`$$.Execution.StartTime`): every round of the request, and every retry
   * of one, shares the deadline it sets. Without it (an execution started before the field existed), the round's own start.
   */
  readonly startedAt?: string | undefined;
}

/** How far a request's review has come: approvals recorded so far, and the seconds left of its one deadline. */
export interface ApprovalProgress {
  readonly approvalsGranted: number;
  readonly remainingSeconds: number;
}

/**
 * The review workflow's first step: the approvals already recorded and the time left. A review resumed after its last
 * approval was recorded but never delivered (local mode restarted in between) then goes on to activation instead of
 * asking for an approval more than it needs, and every round keeps the one deadline.
 */
export async function approvalProgress(
  services: Needs<'getConsumer' | 'getRequest'>,
  input: Pick<ApprovalTask, 'clientId' | 'requestId' | 'startedAt'>,
): Promise<ApprovalProgress> {
  const now = services.clock.now();
  let granted: number;
  let slaHours: number;
  if (input.requestId) {
    const request = await services.requests.getRequest(input.clientId, input.requestId);
    if (!request) throw new ServiceError('not_found', `No request ${input.requestId}`);
    granted = request.approvals.length;
    slaHours = request.reviewSlaHours;
  } else {
    const consumer = await services.consumers.getConsumer(input.clientId);
    if (!consumer) throw new ServiceError('not_found', `No consumer ${input.clientId}`);
    granted = consumer.approvals?.length ?? 0;
    slaHours = consumer.requirements.reviewSlaHours;
  }
  const left = reviewDeadline(input, slaHours, now).getTime() - now.getTime();
  // Step Functions needs a positive wait; a review already past its deadline then times out at once and expires.
  return { approvalsGranted: granted, remainingSeconds: Math.max(1, Math.ceil(left / 1000)) };
}

/**
 * The one deadline of a request's review: the execution's start plus the review SLA, whichever round this is and however
 * often it was retried, so a request needing several approvals is decided (or expires) within one SLA, not one per round.
 */
export function reviewDeadline(input: Pick<ApprovalTask, 'startedAt'>, reviewSlaHours: number, now: Date): Date {
  const started = input.startedAt === undefined ? Number.NaN : Date.parse(input.startedAt);
  return new Date((Number.isNaN(started) ? now.getTime() : started) + reviewSlaHours * 3_600_000);
}

/**
 * Signs each reviewer of a round their own link (bound to their `linkId`, expiring at the round's deadline) and emails it.
 * A failed send is logged with the round's ids and does not stop the others; the caller decides what none sent means.
 */
export async function emailReviewLinks(
  services: Needs<never, 'mailer'>,
  keys: SigningKeyCache,
  subject: { readonly review: Review; readonly consumer: Consumer; readonly request?: ChangeRequest | undefined },
  now: Date,
): Promise<{ readonly sent: string[]; readonly lastFailure?: unknown }> {
  const { review, consumer, request } = subject;
  const sent: string[] = [];
  let lastFailure: unknown;
  for (const { email, linkId } of review.reviewers) {
    const token = await signReviewLink(keys, services.config.issuer, { reviewId: review.reviewId, reviewer: email, linkId }, new Date(review.deadline), now);
    const link = `${routeUrl(services.config.issuer, 'openReview', { review_id: review.reviewId })}?t=${encodeURIComponent(token)}`;
    try {
      await services.mailer.send(reviewerEmail(consumer, review, email, link, services.policy, now, request));
      sent.push(email);
    } catch (error) {
      lastFailure = error;
      services.log.error('reviewer email not sent', {
        clientId: review.clientId,
        requestId: review.requestId,
        reviewId: review.reviewId,
        round: review.round,
        ...mailFailure(error),
      });
    }
  }
  return { sent, ...(sent.length < review.reviewers.length ? { lastFailure } : {}) };
}

/** Why the request a task asks an approval for has nothing left to review, or undefined while it is pending review. */
async function endedSubject(services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest'>, input: ApprovalTask): Promise<string | undefined> {
  if (input.requestId) {
    const request =
      (await endRequestOfEndedConsumer(services, input.clientId, input.requestId)) ?? (await services.requests.getRequest(input.clientId, input.requestId));
    return request && request.status !== 'pending_review' ? `Request ${input.requestId} is ${request.status}: nothing is left to review.` : undefined;
  }
  const consumer = await services.consumers.getConsumer(input.clientId);
  return consumer && consumer.status !== 'pending_review' ? `Consumer ${input.clientId} is ${consumer.status}: nothing is left to review.` : undefined;
}

/**
 * Opens one review round for the workflow's parked task: picks the eligible reviewers (never a requester's contact,
 * never someone who already approved), stores the round with its task token, and emails each reviewer their own link.
 * Idempotent per task token: a retried task finds its round and sends the emails again.
 */
export async function requestApproval(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'createReview' | 'getReview', 'mailer'>,
  keys: SigningKeyCache,
  input: ApprovalTask,
): Promise<Review> {
  // An approval recorded just before the request ended (withdrawn, its consumer revoked) still resumes the workflow: it
  // then ends here, with no round opened and no email sent (not even by a retried task), rather than failing after retries.
  const ended = await endedSubject(services, input);
  if (ended) throw new RequestEnded(ended);
  const now = services.clock.now();
  const reviewId = sha256Hex(`review:${input.taskToken}`).slice(0, 32);
  let review = await services.reviews.getReview(reviewId);
  for (let attempt = 1; !review; attempt++) {
    try {
      review = await openRound(services, reviewId, input, now);
    } catch (error) {
      if (!(error instanceof RegistryError && error.code === 'condition_failed')) throw error;
      // The same task retried concurrently stored the round: use it. The consumer changed under us: read it again.
      review = await services.reviews.getReview(reviewId);
      if (!review && (error.item === 'review' || attempt >= 4)) throw error;
    }
  }
  const consumer = (await services.consumers.getConsumer(review.clientId))!;
  const request = review.requestId ? await services.requests.getRequest(review.clientId, review.requestId) : undefined;
  const { sent, lastFailure } = await emailReviewLinks(services, keys, { review, consumer, request }, now);
  // With no link delivered nobody can decide: the workflow retries this step (a new round, fresh links) until mail works.
  // With one delivered the round goes on; the log lines name the round whose other links did not go out.
  if (sent.length === 0)
    throw new MailUnavailable(`No reviewer email could be sent for review ${reviewId}: ${mailFailure(lastFailure).message}`, { cause: lastFailure });
  services.log.info('review requested', { clientId: review.clientId, reviewId, round: review.round, reviewers: review.reviewers.length, emailed: sent.length });
  return review;
}
