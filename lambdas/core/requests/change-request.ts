import type { ExceptionGrant } from '../exceptions/rules.js';
import type { RiskLevel } from '../policy/schema.js';
import type { Consumer } from '../consumer/consumer.js';
import type { Approval } from '../review/review.js';

/** What an operator (exception, reinstatement), the consumer itself (update, RFC 7592) or its owner (recertification) may ask reviewers to allow. */
export const REQUEST_KINDS = ['exception', 'reinstatement', 'update', 'recertification'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/**
 * `pending_review` until reviewers decide; an approved exception is `active` until it ends (`ended`: it expired or its
 * consumer was revoked), an approved reinstatement is `approved`; `denied`, `expired` (review SLA) and `failed` are final.
 */
export const REQUEST_STATUSES = ['pending_review', 'active', 'approved', 'ended', 'denied', 'expired', 'failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/**
 * A change to an existing consumer that needs human review (an exception to one policy rule, or a reinstatement). It is
 * stored next to its consumer, and every change of it appends to the consumer's audit chain in the same transaction.
 */
export interface ChangeRequest {
  readonly requestId: string;
  /** (Not `kind`: the table uses that attribute for the item type.) */
  readonly type: RequestKind;
  readonly clientId: string;
  readonly status: RequestStatus;
  /**
   * The person who asked (an operator's email), who never reviews the request. Requests stored before operators were
   * mapped to people hold the IAM principal here.
   */
  readonly requestedBy: string;
  /** The IAM principal that signed the request (local mode: its admin identity). */
  readonly requestedByPrincipal?: string | undefined;
  readonly justification: string;
  /** Exceptions: the rule relaxed and the value allowed instead. */
  readonly grant?: ExceptionGrant | undefined;
  /** Exceptions: when it ends, whatever happens. */
  readonly expiresAt?: string | undefined;
  /** Updates: the registration proposed, and the policy's decision on it, applied as it stands once approved. */
  readonly proposed?: ProposedRegistration | undefined;
  /** Updates: the consumer's registrationRevision the proposal was made against; another update since makes it stale. */
  readonly baseRevision?: number | undefined;
  /** Updates: what the proposal changes, in words (`add scope accounts:read`). */
  readonly changes?: readonly string[] | undefined;
  /** The consumer's risk when asked; it sets the reviewer group. */
  readonly risk: RiskLevel;
  readonly approvalsRequired: number;
  readonly approvals: readonly Approval[];
  readonly reviewSlaHours: number;
  readonly openReviewId?: string | undefined;
  readonly reviewExecution?: string | undefined;
  /** Why it ended without approval, or why an exception ended. */
  readonly outcomeReason?: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Optimistic concurrency: every write expects the version it read and stores the next. */
  readonly version: number;
}

/** The registration an RFC 7592 update asks for, with the policy's decision on it: the consumer fields an update replaces. */
export type ProposedRegistration = Pick<
  Consumer,
  | 'clientName'
  | 'scopes'
  | 'purpose'
  | 'dataClasses'
  | 'contacts'
  | 'expiresAt'
  | 'authMethod'
  | 'jwks'
  | 'jwksUri'
  | 'softwareId'
  | 'dpopBoundAccessTokens'
  | 'risk'
  | 'requirements'
  | 'policyVersion'
  | 'decisionReasons'
>;

/** A request written with a consumer change: created, or updated while in one of the expected statuses and versions. */
export type RequestWrite =
  | { readonly create: ChangeRequest }
  | {
      readonly requestId: string;
      readonly expect: { readonly statuses: readonly RequestStatus[]; readonly version: number };
      readonly set: Partial<Omit<ChangeRequest, 'requestId' | 'clientId' | 'type' | 'version'>>;
    };

/** The reviewers' task for a request, in words (emails, review page). */
export function describeRequest(request: ChangeRequest, formatDate: (iso: string) => string = (iso) => iso): string {
  if (request.type === 'reinstatement') return 'Reinstate the suspended consumer';
  if (request.type === 'update') return `Update the registration (asked by the consumer): ${(request.changes ?? []).join('; ') || 'no change listed'}`;
  if (request.type === 'recertification') return `Confirm the owner's periodic attestation that this access is still needed (${request.justification})`;
  const g = request.grant!;
  const what: Record<ExceptionGrant['rule'], string> = {
    auth_method: `keep authenticating with ${String(g.value)} where the policy requires a stronger method`,
    sender_constraint: 'obtain access tokens without DPoP where the policy requires DPoP',
    dormancy_days: `stay active after up to ${String(g.value)} days without use`,
    access_token_ttl_seconds: `receive access tokens valid for ${String(g.value)} s`,
  };
  return `Exception (${g.rule}): ${what[g.rule]}, until ${request.expiresAt === undefined ? 'an unset date' : formatDate(request.expiresAt)}`;
}
