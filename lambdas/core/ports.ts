export type { Metrics } from './metrics.js';
export type { AttentionIndex, DuePage } from './ports/attention.js';
export type { ConsumerChange, ConsumerStore } from './ports/consumers.js';
export type { IdempotencyRecord, MarkerStore } from './ports/markers.js';
export type { PolicyRollout, PolicyRolloutStore } from './ports/policy-rollout.js';
export type { RequestStore } from './ports/requests.js';
export type { ReviewStore } from './ports/reviews.js';
export type { SystemAuditLog } from './ports/system-audit.js';
export type { ClientSecretInventory, ClientSecretPage, ListedClientSecret } from './ports/client-secret-inventory.js';

/** Clock port: all time comes from here so the core is deterministic in tests. */
export interface Clock {
  now(): Date;
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
   * rotation rules; local mode's schedule reads the policy instead). ServiceError `conflict` when the consumer already
   * has a stored secret (another request stored one first); anything else the store raises otherwise.
   */
  create(value: ClientSecretValue, rotateEveryDays: number): Promise<void>;
  /** The consumer's staged secret, for the rotation steps and for delivery to the consumer. */
  staged(clientId: string): StagedSecret;
  /** Removes a consumer's secret (Secrets Manager: deletion after the recovery window); absent is not an error. */
  remove(clientId: string): Promise<void>;
  /**
   * Deletes a secret nobody needs at once, with no recovery window: one whose registration or update never committed,
   * or one a move to key authentication retired (the registry keeps its hash for the grace). Secrets Manager keeps the
   * name of a secret in its recovery window, so only this lets the same consumer be given a secret again within it.
   * Absent is not an error.
   */
  discard(clientId: string): Promise<void>;
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
