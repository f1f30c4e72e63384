import { addressKey } from './addresses.js';

/** One round of human review: who may decide it, by when, and the Step Functions task token it resumes. */
export interface Review {
  readonly reviewId: string;
  readonly clientId: string;
  /** The change request under review (exception, reinstatement); absent for a new consumer's onboarding. */
  readonly requestId?: string | undefined;
  /** 1 for the first approval, 2 for the second. */
  readonly round: number;
  readonly approvalsRequired: number;
  /** Resumes the workflow; kept server-side only, never in a link or a log. */
  readonly taskToken: string;
  /** Each reviewer's link is bound to them by `linkId` (the link token's `jti`). */
  readonly reviewers: readonly { readonly email: string; readonly linkId: string }[];
  /** `superseded`: a retried workflow task opened a newer round for the same approval; this one's links have ended. */
  readonly status: 'open' | 'approved' | 'denied' | 'superseded';
  readonly decidedBy?: string | undefined;
  readonly decidedAt?: string | undefined;
  readonly comment?: string | undefined;
  /** Set once the decision reached the workflow; until then the deciding reviewer may resend it. */
  readonly deliveredAt?: string | undefined;
  readonly createdAt: string;
  readonly deadline: string;
}

/** A recorded approval on a consumer. */
export interface Approval {
  readonly reviewer: string;
  readonly round: number;
  readonly at: string;
  readonly comment?: string | undefined;
}

/**
 * Separation of duties: a requester's own contact never reviews its request, and nobody approves the same request twice.
 * Addresses are compared as the people they reach (`addressKey`), so case or a `+tag` in the bank's domains changes nothing.
 */
export function eligibleReviewers(
  group: readonly string[],
  contacts: readonly string[],
  approvals: readonly Approval[],
  ownDomains: readonly string[] = [],
): string[] {
  const key = (email: string) => addressKey(email, ownDomains);
  const excluded = new Set([...contacts.map(key), ...approvals.map((a) => key(a.reviewer))]);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const email of group) {
    const k = key(email);
    if (excluded.has(k) || seen.has(k)) continue;
    seen.add(k);
    out.push(email.trim().toLowerCase());
  }
  return out;
}

/** Whether `email` may decide a review of a consumer with these contacts and approvals. */
export function mayReview(email: string, contacts: readonly string[], approvals: readonly Approval[], ownDomains: readonly string[] = []): boolean {
  return eligibleReviewers([email], contacts, approvals, ownDomains).length === 1;
}
