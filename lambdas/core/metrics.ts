import type { OAuthErrorCode } from './oauth/errors.js';
import type { RiskLevel, Tier } from './policy/schema.js';
import { REQUEST_KINDS } from './requests/change-request.js';

/**
 * The vocabulary of Gatehouse's own metrics, shared by the adapters that publish them (EMF in Lambda, counters in local
 * mode) and the CDK code that draws and alarms on them (lib/dashboard.ts, lib/application-alarms.ts), so names,
 * dimensions and namespace cannot drift apart. Dimensions take a handful of values each: never a client id, a token or
 * anything else per consumer or secret.
 */

/** Namespace of the metrics; a deployed stack scopes it to itself with {@link stackMetricsNamespace}. */
export const METRICS_NAMESPACE = 'Gatehouse';
/** The `service` dimension every metric carries (Powertools adds it): POWERTOOLS_SERVICE_NAME of every Gatehouse function. */
export const METRICS_SERVICE = 'gatehouse';

/**
 * The namespace a stack's functions publish to (POWERTOOLS_METRICS_NAMESPACE), `Gatehouse/<stack name>`: the same one as the
 * stack's log metric filters, so two Gatehouse stacks in one account and region never add up each other's metrics.
 */
export function stackMetricsNamespace(stackName: string): string {
  return `${METRICS_NAMESPACE}/${stackName}`;
}

/** How policy decided a registration. */
export const REGISTRATION_PATHS = ['auto', 'review', 'deny'] as const;
/** What a review round was about: a new consumer, or a change request of an existing one. */
export const REVIEW_KINDS = ['onboarding', ...REQUEST_KINDS] as const;
/** How a review ended (`ReviewLatency`): reviewers approved or denied it, or nobody decided within the SLA. */
export const REVIEW_OUTCOMES = ['approved', 'denied', 'expired'] as const;
/** One reviewer's decision on one round. */
export const REVIEW_DECISIONS = ['approve', 'deny'] as const;
/**
 * How an RFC 7592 update ended: applied at once (it narrowed access, or policy approved it by itself), sent to review
 * (202), denied by policy (403), or refused as `update_conflict` (409: the registration's state or a concurrent change).
 */
export const REGISTRATION_UPDATE_OUTCOMES = ['applied', 'review', 'denied', 'conflict'] as const;
/**
 * How a periodic recertification ended: an owner confirmed the access as it was or dropped scopes, confirmed a high-risk
 * consumer that bank reviewers must now confirm, or deregistered it; or nobody attested and the sweep suspended it. Then
 * how bank reviewers ended a high-risk attestation's review: confirmed, denied (the consumer is suspended), expired or
 * failed (the owner gets a new window and new links).
 */
export const RECERTIFICATION_OUTCOMES = [
  'confirmed',
  'scopes_dropped',
  'review',
  'deregistered',
  'suspended_overdue',
  'review_confirmed',
  'review_denied',
  'review_expired',
  'review_failed',
] as const;
export const ROTATION_KINDS = ['client_secret', 'signing_key'] as const;
export const ROTATION_OUTCOMES = ['success', 'failure'] as const;
/** The admin API's operations, one per route. */
export const ADMIN_ACTIONS = [
  'list_consumers',
  'show_consumer',
  'suspend',
  'terminate',
  'rotate_secret',
  'evidence',
  'request_reinstatement',
  'request_exception',
  'list_exceptions',
  'evaluate_policy',
  'list_recertifications',
  'resend_review_links',
] as const;

export type RegistrationPath = (typeof REGISTRATION_PATHS)[number];
export type ReviewKind = (typeof REVIEW_KINDS)[number];
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
export type RegistrationUpdateOutcome = (typeof REGISTRATION_UPDATE_OUTCOMES)[number];
export type RecertificationOutcome = (typeof RECERTIFICATION_OUTCOMES)[number];
export type RotationKind = (typeof ROTATION_KINDS)[number];
export type RotationOutcome = (typeof ROTATION_OUTCOMES)[number];
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** A metric without dimensions of its own (only `service`): `{}`, and nothing else. */
export type NoDimensions = { readonly [key: string]: never };

/** Every metric by name, with the dimensions (names and allowed values) it is recorded with. */
export interface MetricDimensions {
  /** Access tokens issued. */
  readonly TokensIssued: { readonly tier: Tier; readonly risk: RiskLevel };
  /** Token requests refused, by OAuth error code (RFC 6749 §5.2). */
  readonly TokenRequestsRefused: { readonly error: OAuthErrorCode };
  /** Registrations decided by policy: created active, sent to review, or denied. */
  readonly RegistrationDecisions: { readonly path: RegistrationPath; readonly tier: Tier };
  /** RFC 7592 updates by the consumer (`PUT /register/{client_id}`) that got past the registration access token and validation. */
  readonly RegistrationUpdates: { readonly outcome: RegistrationUpdateOutcome };
  /** Registrations the consumer deleted itself (RFC 7592 `DELETE /register/{client_id}`): each one revoked. */
  readonly RegistrationsDeleted: NoDimensions;
  /** Consumers whose recertification fell due: the sweep sent their contacts attestation links. */
  readonly RecertificationsDue: NoDimensions;
  /** Recertifications answered from an attestation link, ended by bank reviewers (high risk), or by the sweep suspending the consumer. */
  readonly RecertificationOutcomes: { readonly outcome: RecertificationOutcome };
  /** Reviewers' decisions on review rounds. */
  readonly ReviewsDecided: { readonly decision: ReviewDecision };
  /** Seconds from a request (registration or change request) to its review outcome. */
  readonly ReviewLatency: { readonly kind: ReviewKind; readonly outcome: ReviewOutcome };
  /** Lifecycle sweep: consumers read from the attention index. */
  readonly SweepReads: NoDimensions;
  readonly SweepRevoked: NoDimensions;
  readonly SweepSuspended: NoDimensions;
  readonly SweepWarned: NoDimensions;
  readonly SweepExceptionsEnded: NoDimensions;
  readonly SweepRequestsFailed: NoDimensions;
  /** Consumers the sweep could not handle (they stay due for the next run). */
  readonly SweepFailed: NoDimensions;
  /** Client secrets with no consumer (a registration that never committed), scheduled for deletion by the sweep. */
  readonly SweepOrphanSecretsDeleted: NoDimensions;
  /** Consumers re-evaluated against a newly deployed policy version. */
  readonly PolicyRolloutReevaluated: NoDimensions;
  /** Consumers found out of the newly deployed policy (grace period, then suspension). */
  readonly PolicyRolloutOutOfPolicy: NoDimensions;
  /** Completed (finishSecret) and failed rotations of client secrets and of the signing key. */
  readonly SecretRotations: { readonly kind: RotationKind; readonly outcome: RotationOutcome };
  /** Admin API calls that succeeded, by operation. */
  readonly AdminActions: { readonly action: AdminAction };
}

export type MetricName = keyof MetricDimensions;

/** CloudWatch units used (the EMF `Unit`). */
export type MetricUnit = 'Count' | 'Seconds';

export interface MetricDefinition<N extends MetricName> {
  readonly unit: MetricUnit;
  /** Its dimension names, in the order they are published (after `service`). */
  readonly dimensions: ReadonlyArray<Extract<keyof MetricDimensions[N], string>>;
}

/** Unit and dimension names of every metric. */
export const METRIC_DEFINITIONS: { readonly [N in MetricName]: MetricDefinition<N> } = {
  TokensIssued: { unit: 'Count', dimensions: ['tier', 'risk'] },
  TokenRequestsRefused: { unit: 'Count', dimensions: ['error'] },
  RegistrationDecisions: { unit: 'Count', dimensions: ['path', 'tier'] },
  RegistrationUpdates: { unit: 'Count', dimensions: ['outcome'] },
  RegistrationsDeleted: { unit: 'Count', dimensions: [] },
  RecertificationsDue: { unit: 'Count', dimensions: [] },
  RecertificationOutcomes: { unit: 'Count', dimensions: ['outcome'] },
  ReviewsDecided: { unit: 'Count', dimensions: ['decision'] },
  ReviewLatency: { unit: 'Seconds', dimensions: ['kind', 'outcome'] },
  SweepReads: { unit: 'Count', dimensions: [] },
  SweepRevoked: { unit: 'Count', dimensions: [] },
  SweepSuspended: { unit: 'Count', dimensions: [] },
  SweepWarned: { unit: 'Count', dimensions: [] },
  SweepExceptionsEnded: { unit: 'Count', dimensions: [] },
  SweepRequestsFailed: { unit: 'Count', dimensions: [] },
  SweepFailed: { unit: 'Count', dimensions: [] },
  SweepOrphanSecretsDeleted: { unit: 'Count', dimensions: [] },
  PolicyRolloutReevaluated: { unit: 'Count', dimensions: [] },
  PolicyRolloutOutOfPolicy: { unit: 'Count', dimensions: [] },
  SecretRotations: { unit: 'Count', dimensions: ['kind', 'outcome'] },
  AdminActions: { unit: 'Count', dimensions: ['action'] },
};

/** Every metric name. */
export const METRIC_NAMES = Object.keys(METRIC_DEFINITIONS) as MetricName[];

/** The lifecycle sweep's counts, in the order a dashboard shows them. */
export const SWEEP_METRICS = [
  'SweepReads',
  'SweepRevoked',
  'SweepSuspended',
  'SweepWarned',
  'SweepExceptionsEnded',
  'SweepRequestsFailed',
  'SweepFailed',
  'SweepOrphanSecretsDeleted',
] as const satisfies readonly MetricName[];

/**
 * One series of a metric: its definition, its dimension values, and the key the Metrics adapters group recordings under
 * (the metric and its defined dimensions' values, in definition order).
 */
export function metricSeries<N extends MetricName>(
  name: N,
  dimensions: MetricDimensions[N],
): { readonly key: string; readonly definition: MetricDefinition<N>; readonly dimensions: Readonly<Record<string, string>> } {
  const definition = METRIC_DEFINITIONS[name];
  const dims = dimensions as Readonly<Record<string, string>>;
  return { key: `${name}|${definition.dimensions.map((d) => dims[d]).join('|')}`, definition, dimensions: dims };
}

/**
 * Metrics port: records counts and observations into a buffer, synchronously and without I/O (the token path calls it), and
 * publishes them once per invocation when the handler edge calls `flush`.
 */
export interface Metrics {
  /** Adds `value` (default 1) to a count, or records one observation (a latency) of `name` with these dimensions. */
  record<N extends MetricName>(name: N, dimensions: MetricDimensions[N], value?: number): void;
  /** Publishes what was recorded since the last flush (EMF in Lambda); never throws. */
  flush(): void;
}
