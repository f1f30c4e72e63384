import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { signReviewLink } from '../../../../lambdas/core/review/link-token.js';
import type { Review } from '../../../../lambdas/core/review/review.js';
import type { SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { CLIENT_ID, consumerFixture, defaultPolicy, HOUR_MS, NOW } from '../../fixtures.js';

export const ALICE = 'alice.reviewer@bank.example';
export const BOB = 'bob.reviewer@bank.example';
/** A reviewer who is also one of the requester's contacts (stored with other casing). */
export const DANA = 'dana.reviewer@bank.example';
export const OPS = 'ops@fintech.example';

export const REVIEW_ID = '0123456789abcdef0123456789abcdef';
export const TASK_TOKEN = 'sfn-task-token-round-1';
export const DEADLINE = new Date(NOW.getTime() + 72 * HOUR_MS);

/** A high-risk partner request waiting for its two approvals; DANA is one of its contacts. */
export function pendingConsumer(overrides: Partial<Consumer> = {}): Consumer {
  return consumerFixture({
    clientName: 'SME payments',
    tier: 'partner',
    status: 'pending_review',
    scopes: ['payments:initiate'],
    purpose: 'Initiate supplier payments on behalf of SME customers',
    dataClasses: ['payment'],
    contacts: [OPS, 'Dana.Reviewer@Bank.Example'],
    authMethod: 'private_key_jwt',
    risk: 'high',
    requirements: defaultPolicy.document.risks.high,
    decisionReasons: [{ code: 'payment_initiation_requires_review', subject: 'payments:initiate', message: 'Payment initiation needs two reviewers.' }],
    softwareId: 'sme-payments',
    secretHash: undefined,
    secretExpiresAt: undefined,
    approvals: [],
    openReviewId: REVIEW_ID,
    ...overrides,
  });
}

/** An open first round for CLIENT_ID, asking ALICE and BOB. */
export function reviewFixture(overrides: Partial<Review> = {}): Review {
  return {
    reviewId: REVIEW_ID,
    clientId: CLIENT_ID,
    round: 1,
    approvalsRequired: 2,
    taskToken: TASK_TOKEN,
    reviewers: [
      { email: ALICE, linkId: 'link-alice' },
      { email: BOB, linkId: 'link-bob' },
    ],
    status: 'open',
    createdAt: NOW.toISOString(),
    deadline: DEADLINE.toISOString(),
    ...overrides,
  };
}

/** The link token `reviewer` was emailed for `review` (their own linkId), as request-approval signs it. */
export function linkFor(
  keys: SigningKeyCache,
  issuer: string,
  review: Review,
  reviewer: string,
  options: { expiresAt?: Date; now?: Date } = {},
): Promise<string> {
  const entry = review.reviewers.find((r) => r.email === reviewer);
  if (!entry) throw new Error(`${reviewer} is not a reviewer of ${review.reviewId}`);
  return signReviewLink(
    keys,
    issuer,
    { reviewId: review.reviewId, reviewer, linkId: entry.linkId },
    options.expiresAt ?? new Date(review.deadline),
    options.now ?? NOW,
  );
}
