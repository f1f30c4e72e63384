import type { AuditEvent } from './audit/event.js';
import type { Consumer, ConsumerStatus } from './consumer/consumer.js';
import type { ChangeRequest, RequestWrite } from './requests/change-request.js';
import type { Review } from './review/review.js';

export type { Metrics } from './metrics.js';

/** Clock port: all time comes from here so the core is deterministic in tests. */
export interface Clock {
  now(): Date;
}

/** A stored RFC-style idempotent response; the secret part is encrypted under a key only the caller holds. */
export interface IdempotencyRecord {
  /** SHA-256 of the Idempotency-Key; the key itself is never stored. */
  readonly keyHash: string;
  /** SHA-256 of the canonical request body, to refuse reuse with another request. */
  readonly requestHash: string;
  readonly statusCode: number;
  /** AES-256-GCM sealed response body (base64url), keyed from the Idempotency-Key. */
  readonly sealedBody: string;
  readonly createdAt: string;
  /** Epoch seconds; DynamoDB TTL removes it. */
  readonly expiresAtEpoch: number;
}

/** A change of a consumer, written atomically with its audit event. */
export interface ConsumerChange {
  readonly clientId: string;
  /** The change applies only while the consumer is in one of these statuses and at this audit position. */
  readonly expect: { readonly statuses: readonly ConsumerStatus[]; readonly auditSeq: number };
  readonly set: Partial<Omit<Consumer, 'clientId' | 'auditSeq' | 'auditHead'>>;
  readonly audit: AuditEvent;
  /** keyHash of an idempotency record to delete in the same transaction. */
  readonly releaseIdempotency?: string;
  /** A change request of this consumer created or updated in the same transaction. */
  readonly request?: RequestWrite | undefined;
}

/** Registry port: consumers, their audit trail and idempotency records (one DynamoDB table in both modes). */
export interface Registry {
  /** Creates a consumer with its first audit events (and an idempotency record) in one transaction. */
  createConsumer(consumer: Consumer, audit: readonly AuditEvent[], idempotency?: IdempotencyRecord): Promise<void>;
  getConsumer(clientId: string): Promise<Consumer | undefined>;
  /** Applies a change and appends its audit event (and an idempotency record) in one transaction; RegistryError if the expectation fails. */
  updateConsumer(change: ConsumerChange, idempotency?: IdempotencyRecord): Promise<void>;
  listAudit(clientId: string): Promise<AuditEvent[]>;
  getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined>;
  /** Every consumer, `limit` at a time (an operator's listing; not for request paths). */
  listConsumers(limit: number, next?: string): Promise<{ readonly consumers: readonly Consumer[]; readonly next?: string | undefined }>;
  /** Adds scopes to those the consumer has requested in tokens (called only when a token asks for one not yet recorded). */
  recordScopes(clientId: string, scopes: readonly string[]): Promise<void>;
  /** Records use for dormancy tracking, at most once per `minIntervalMs`. */
  recordUse(clientId: string, at: Date, minIntervalMs: number): Promise<void>;
  /**
   * Claims a one-time marker (an assertion or DPoP `jti`, a revoked token id) until `expiresAtEpoch`.
   * Returns false when it is already claimed and not yet expired. A conditional write: safe across instances.
   */
  claimOnce(marker: string, expiresAtEpoch: number, now: Date): Promise<boolean>;
  /** Whether an unexpired marker exists. */
  hasMarker(marker: string, now: Date): Promise<boolean>;
  /**
   * Stores a new review round with the consumer's change and audit event, in one transaction; `supersedes` names a round
   * still open for the same approval (a retried workflow task), which is closed as `superseded` in the same transaction.
   */
  createReview(review: Review, change: ConsumerChange, supersedes?: string): Promise<void>;
  getReview(reviewId: string): Promise<Review | undefined>;
  /**
   * Records a decision on an open review with the consumer's change and audit event, in one transaction;
   * RegistryError `condition_failed` (item `review`) when the review is no longer open.
   */
  decideReview(reviewId: string, decision: Pick<Review, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>, change: ConsumerChange): Promise<void>;
  /** Marks a decided review as delivered to the workflow. */
  markReviewDelivered(reviewId: string, at: Date): Promise<void>;
  getRequest(clientId: string, requestId: string): Promise<ChangeRequest | undefined>;
  /** A consumer's change requests, oldest first. */
  listRequests(clientId: string): Promise<ChangeRequest[]>;
  /** Every change request, `limit` items examined at a time (an operator's listing; not for request paths). */
  listAllRequests(limit: number, next?: string): Promise<{ readonly requests: readonly ChangeRequest[]; readonly next?: string | undefined }>;
}

/**
 * Progress of re-evaluating consumers after the deployed policy version changed: which version, where the scan stopped,
 * whether it finished. One record; sweeps take turns on it with conditional writes.
 */
export interface PolicyRollout {
  readonly version: string;
  readonly startedAt: string;
  readonly cursor?: string | undefined;
  readonly complete: boolean;
  /** Consumers re-evaluated so far, and how many were found out of policy. */
  readonly reevaluated: number;
  readonly outOfPolicy: number;
  /** Optimistic concurrency: each save expects the revision it read. */
  readonly revision: number;
}

export interface PolicyRolloutStore {
  getPolicyRollout(): Promise<PolicyRollout | undefined>;
  /** Stores `next` if the stored revision is still `expectRevision` (0: none stored); false when another sweep moved it. */
  savePolicyRollout(next: PolicyRollout, expectRevision: number): Promise<boolean>;
}

/** A page of consumers due for a sweep's attention, in order of when they became due. */
export interface DuePage {
  readonly consumers: readonly Consumer[];
  /** Opaque position to continue from; absent on the last page. */
  readonly next?: string | undefined;
}

/**
 * The sparse `attention` index: consumers keyed by the next time a sweep must look at them. A sweep's reads grow with
 * the consumers that are due, not with the table.
 */
export interface AttentionIndex {
  /** Consumers whose attention time is at or before `now`, `limit` at a time (eventually consistent). */
  listDue(now: Date, limit: number, next?: string): Promise<DuePage>;
  /**
   * Moves a consumer's attention time without any other change (a due consumer that needs nothing yet, e.g. it was used
   * since). Conditional on the audit position, so it never overwrites a concurrent change; false when that moved.
   * `requestCheck` also moves the consumer's `requestCheckAt` (removed when undefined): the sweep's check of its change
   * requests found nothing to close, or only requests too young to judge.
   */
  rearm(
    clientId: string,
    attentionAt: string | undefined,
    expectAuditSeq: number,
    requestCheck?: { readonly requestCheckAt: string | undefined },
  ): Promise<boolean>;
}

/** An append-only, hash-chained audit stream that is not about one consumer (e.g. `signing-key`). */
export interface SystemAuditLog {
  /** Appends the next event of the stream (its `clientId` is `system:<stream>`); a concurrent append is re-chained. */
  appendSystemAudit(stream: string, event: Pick<AuditEvent, 'type' | 'at' | 'actor' | 'data'>): Promise<AuditEvent>;
  listSystemAudit(stream: string): Promise<AuditEvent[]>;
}

/** An ES256 key pair in JWK form, identified by `kid`. */
export interface SigningKey {
  readonly kid: string;
  readonly privateJwk: Readonly<Record<string, unknown>>;
  readonly publicJwk: Readonly<Record<string, unknown>>;
  /**
   * ISO time from which the key may sign. A rotated-in key is published first and signs only once resource servers
   * have had time to fetch it; until then the previous key keeps signing. Absent: signs at once.
   */
  readonly activatesAt?: string | undefined;
}

/** What the vault holds for token signing: the key that signs now and every key still to be published. */
export interface SigningKeySet {
  readonly current: SigningKey;
  /** Keys published in JWKS besides the current one (pending before they sign, previous until their tokens expire). */
  readonly published: readonly SigningKey[];
  /** The key being rotated in (Secrets Manager AWSPENDING), if a rotation is under way. */
  readonly pending?: SigningKey | undefined;
  /** The key that signed before the current one (AWSPREVIOUS). */
  readonly previous?: SigningKey | undefined;
}

/** Secrets Manager's staging labels, used the same way by the local store. */
export const STAGES = { current: 'AWSCURRENT', pending: 'AWSPENDING', previous: 'AWSPREVIOUS' } as const;

/** A secret with versions and staging labels: Secrets Manager in AWS, a file in local mode. Rotation steps use it. */
export interface StagedSecret {
  versions(): Promise<ReadonlyArray<{ readonly versionId: string; readonly stages: readonly string[] }>>;
  /** The value of a version or of the version holding a stage; undefined when there is none. */
  read(selector: { readonly versionId: string } | { readonly stage: string }): Promise<string | undefined>;
  /** Stores a new version labelled AWSPENDING (idempotent for the same version id and value). */
  putPending(versionId: string, value: string): Promise<void>;
  /** Moves AWSCURRENT from `fromVersionId` to `versionId`; the old current becomes AWSPREVIOUS. */
  promote(versionId: string, fromVersionId: string): Promise<void>;
}

/** What a consumer's client-secret secret holds (JSON): whose it is and the secret itself. */
export interface ClientSecretValue {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Client secrets, one staged secret per consumer (Secrets Manager in AWS, one file per consumer locally). The registry
 * keeps only hashes; this store holds the values the consumer fetches and the rotation function replaces.
 */
export interface ClientSecretStore {
  /**
   * Stores a consumer's first secret as AWSCURRENT and schedules its rotation every `rotateEveryDays` (Secrets Manager
   * rotation rules; local mode's schedule reads the policy instead).
   */
  create(value: ClientSecretValue, rotateEveryDays: number): Promise<void>;
  /** The consumer's staged secret, for the rotation steps and for delivery to the consumer. */
  staged(clientId: string): StagedSecret;
  /** Removes a consumer's secret (Secrets Manager: deletion after the recovery window); absent is not an error. */
  remove(clientId: string): Promise<void>;
  /**
   * Rotates a consumer's secret now, off schedule (an operator's call, e.g. after a suspected leak). Secrets Manager runs
   * the rotation function asynchronously; local mode runs the four steps before returning.
   */
  rotateNow(clientId: string): Promise<void>;
}

/** A signing key as a function that only verifies sees it: no private half. */
export type PublicSigningKey = Omit<SigningKey, 'privateJwk'>;

/** The public halves of a SigningKeySet: all that JWKS and token or link verification need. */
export interface PublicSigningKeySet {
  readonly current: PublicSigningKey;
  readonly published: readonly PublicSigningKey[];
  readonly previous?: PublicSigningKey | undefined;
}

/** Vault port: signing keys (Secrets Manager in AWS, a file in local mode). */
export interface Vault {
  /** The key set with private halves: only functions that sign may call it. */
  getSigningKeys(): Promise<SigningKeySet>;
  /** The public halves only (functions that verify read them from a separate store that holds no private key). */
  getPublicKeys(): Promise<PublicSigningKeySet>;
}

/**
 * Where the public halves of the signing keys are published for verify-only functions (a second secret in AWS, a file
 * locally); written by the seeding and by every rotation, from the private key set.
 */
export interface PublicKeyStore {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

/** Input of the review workflow (the state machine's execution input). */
export interface ReviewRequest {
  readonly clientId: string;
  /** The change request under review (an exception or reinstatement); null for a new consumer's onboarding. */
  readonly requestId: string | null;
  readonly risk: string;
  readonly approvals: number;
  readonly reviewSlaSeconds: number;
}

/** Workflow port: the human review state machine. */
export interface Workflow {
  /** Starts (idempotently, named after the consumer or the change request) the review execution; returns its id. */
  startReview(request: ReviewRequest): Promise<string>;
  sendTaskSuccess(taskToken: string, output: Readonly<Record<string, unknown>>): Promise<void>;
  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface Email {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly html?: string | undefined;
}

/**
 * Mailer port: `.eml` files in a local outbox; in AWS, SES itself (`mail:send`: review-task) or, for consumer notices
 * (`notice:send`), the notice workflow, which sends through SES and retries, `send` resolving once it holds the notice.
 */
export interface Mailer {
  send(email: Email): Promise<void>;
}
