import type { Reason } from '../policy/reasons.js';
import type { Approval } from '../review/review.js';
import type { ExceptionGrant } from '../exceptions/rules.js';
import type { AuthMethod, RiskLevel, RiskRequirements, Tier } from '../policy/schema.js';

export const CONSUMER_STATUSES = ['pending_review', 'active', 'denied', 'expired', 'failed', 'withdrawn', 'suspended', 'revoked'] as const;
export type ConsumerStatus = (typeof CONSUMER_STATUSES)[number];

/** A public JSON Web Key as registered by a consumer (RFC 7517); private members are refused at the boundary. */
export type PublicJwk = Readonly<Record<string, unknown>> & { readonly kty: string };

/** An API consumer: a non-human identity bound to its purpose, data classes, scopes and expiry. */
export interface Consumer {
  readonly clientId: string;
  readonly clientName: string;
  readonly tier: Tier;
  readonly status: ConsumerStatus;
  readonly scopes: readonly string[];
  readonly purpose: string;
  readonly dataClasses: readonly string[];
  readonly contacts: readonly string[];
  /** ISO 8601; the grant ends here whatever else happens. */
  readonly expiresAt: string;
  readonly authMethod: AuthMethod;
  readonly risk: RiskLevel;
  /** The policy's requirements for this consumer's risk, frozen at decision time. */
  readonly requirements: RiskRequirements;
  /**
   * The client asked for DPoP-bound access tokens at registration (RFC 9449 section 5.2): it is held to DPoP whatever
   * its risk requires, and no exception relaxes that, since the client itself chose it.
   */
  readonly dpopBoundAccessTokens?: true | undefined;
  readonly policyVersion: string;
  readonly decisionReasons: readonly Reason[];
  readonly softwareId?: string | undefined;
  /**
   * The software_id when a verified software statement vouched for it (any client may claim a `software_id` in its
   * metadata; only this one is counted against the policy's limit per software_id).
   */
  readonly statementSoftwareId?: string | undefined;
  /** The organisation (`org_name`) the verified software statement names: unlike `clientName`, vouched for by the bank. */
  readonly organisation?: string | undefined;
  readonly jwks?: { readonly keys: readonly PublicJwk[] } | undefined;
  /** Where the client publishes its keys instead (private_key_jwt), fetched and cached by the OAuth endpoints; never with `jwks`. */
  readonly jwksUri?: string | undefined;
  /** Keys an RFC 7592 update removed, still accepted for client authentication until their `until` (the rollover grace). */
  readonly retiredKeys?: readonly RetiredKey[] | undefined;
  /** RFC 7592 updates applied so far: a change request proposing an update applies only to the revision it was made against. */
  readonly registrationRevision?: number | undefined;
  /** The latest RFC 7592 update that needed review; the registration read shows its status. */
  readonly updateRequestId?: string | undefined;
  /** base64url SHA-256 of the client secret; the secret itself is never stored. */
  readonly secretHash?: string | undefined;
  readonly secretExpiresAt?: string | undefined;
  /** Hash of the secret being rotated in (AWSPENDING), accepted from setSecret until finishSecret makes it current. */
  readonly pendingSecretHash?: string | undefined;
  /** Hash of the secret rotated out, accepted until `previousSecretExpiresAt` (the grace window). */
  readonly previousSecretHash?: string | undefined;
  readonly previousSecretExpiresAt?: string | undefined;
  /** When the current secret became current by rotation (absent: the secret issued at registration). */
  readonly secretRotatedAt?: string | undefined;
  /**
   * Set when an operator reported the secret compromised: from then on neither the current nor a rotated-out secret is
   * accepted, only the one being rotated in; the rotation's end clears it (and keeps no grace window).
   */
  readonly secretCompromisedAt?: string | undefined;
  /**
   * Epoch second at or before which this consumer's access tokens are refused (introspection, the revocation document)
   * although it keeps its access: set by a reported secret compromise, since whoever held the secret may hold tokens too.
   * The token endpoint issues no token until that second has passed, so no token from the new secret is caught by it.
   */
  readonly tokensRevokedThrough?: number | undefined;
  /** base64url SHA-256 of the RFC 7592 registration access token. */
  readonly registrationTokenHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastUsedAt?: string | undefined;
  /** Workflow execution handling the review path, when there is one. */
  readonly reviewExecution?: string | undefined;
  /** Human approvals recorded so far (review path). */
  readonly approvals?: readonly Approval[] | undefined;
  /** The review currently waiting for a decision, if any. */
  readonly openReviewId?: string | undefined;
  /** Why a review ended without approval (the reviewer's comment, or the SLA). */
  readonly outcomeReason?: string | undefined;
  /** When the consumer last became active (approval or reinstatement): dormancy counts from here until first use. */
  readonly activatedAt?: string | undefined;
  /**
   * The next time a sweep must look at this consumer (a warning, a dormancy cutoff, the grant's end), kept by every
   * change; it keys the sparse `attention` index. Absent for consumers that need no future look.
   */
  readonly attentionAt?: string | undefined;
  /** Warnings already sent, as `<kind>:<deadline>`, so each is sent once however often the sweep runs. */
  readonly warningsSent?: readonly string[] | undefined;
  /** Scopes this consumer has actually requested in tokens (recorded on first use of each). */
  readonly usedScopes?: readonly string[] | undefined;
  /** Exceptions granted through review and not yet ended; each relaxes one requirement until it expires. */
  readonly exceptions?: readonly ActiveException[] | undefined;
  /**
   * When the oldest change request not yet known to have a review workflow was opened. A sweep looks at the consumer's
   * requests STALLED_REVIEW_MS later and closes as failed any still without one (its workflow could neither start nor be
   * recorded as failed), so no request is left pending for ever; absent once every request opened has its workflow.
   */
  readonly requestCheckAt?: string | undefined;
  /** Set when a new policy version found the consumer out of policy: it is suspended at `suspendAt` unless fixed. */
  readonly outOfPolicy?: OutOfPolicy | undefined;
  /** Periodic recertification: when the owner must next attest this consumer's access, and the last attestation. */
  readonly recertification?: Recertification | undefined;
  /** Hash chain head of this consumer's audit trail; every change appends one event. */
  readonly auditSeq: number;
  readonly auditHead: string;
}

/** A public key removed from a consumer's jwks, accepted until `until`. */
export interface RetiredKey {
  readonly key: PublicJwk;
  readonly until: string;
}

/** An exception in force on a consumer (the request that granted it holds the justification and approvals). */
export type ActiveException = ExceptionGrant & {
  readonly exceptionId: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
  readonly approvers: readonly string[];
};

/**
 * Where a consumer stands in its recertification cycle. Absent on consumers activated before recertification existed:
 * their due date is computed from their activation (lambdas/core/recertification/due.ts).
 */
export interface Recertification {
  /** The owner attests by here; the consumer is suspended `recertificationGraceDays` later if nobody has. */
  readonly dueAt: string;
  /** The attestation links sent for this due date, one per contact (`linkId` is the link's `jti`); each works once. */
  readonly links?: readonly { readonly email: string; readonly linkId: string }[] | undefined;
  readonly linksSentAt?: string | undefined;
  /** When the sweep suspended the consumer because nobody attested in time (reason `recertification_overdue`). */
  readonly overdueSuspendedAt?: string | undefined;
  /** A high-risk attestation waiting for a bank reviewer's confirmation (its change request); suspension waits until `until`. */
  readonly pending?: (Attestation & { readonly requestId: string; readonly until: string }) | undefined;
  readonly last?: (Attestation & { readonly confirmedBy?: readonly string[] | undefined; readonly requestId?: string | undefined }) | undefined;
  /**
   * Set when bank reviewers let a high-risk attestation's review end undecided (expired or failed): the owner gets new
   * links and may attest again until `until`; `count` such reopenings for this due date (bounded).
   */
  readonly reopened?: { readonly count: number; readonly at: string; readonly until: string; readonly requestId: string } | undefined;
  /** When the consumer was suspended because bank reviewers denied its high-risk attestation (reason `recertification_denied`). */
  readonly deniedSuspendedAt?: string | undefined;
}

/** One attestation by a consumer's owner: who (the contact the link was sent to), when, and the scopes they removed. */
export interface Attestation {
  readonly at: string;
  /** The link it was made with (its `jti`), so a second use of the same link is told apart from a bad link. */
  readonly linkId: string;
  readonly attestedBy: string;
  readonly scopesRemoved: readonly string[];
}

/** Why a consumer no longer meets the deployed policy, and when the grace period ends. */
export interface OutOfPolicy {
  readonly policyVersion: string;
  readonly reasons: readonly Reason[];
  readonly since: string;
  readonly suspendAt: string;
}

/** Granted scopes the consumer has never requested in a token (scope right-sizing); empty until it has been active a while. */
export function unusedScopes(consumer: Pick<Consumer, 'scopes' | 'usedScopes'>): string[] {
  const used = new Set(consumer.usedScopes ?? []);
  return consumer.scopes.filter((s) => !used.has(s));
}
