import { GatehouseError } from '../errors.js';
import type { Decision } from '../policy/evaluate.js';

/** RFC 7591 §3.2.2 error codes, plus the idempotency conflicts of the Idempotency-Key header draft. */
export type RegistrationErrorCode =
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'idempotency_key_reused'
  | 'idempotency_key_invalid'
  /** Gatehouse's own: an RFC 7592 update or delete that cannot apply to the registration as it is now (a concurrent change won). */
  | 'update_conflict';

/** Bad registration input; rendered as RFC 7591 `{ error, error_description }`. */
export class RegistrationError extends GatehouseError<RegistrationErrorCode> {
  override readonly name = 'RegistrationError';
  /** Where in the request the problem is (a metadata field name), when known. */
  readonly field: string | undefined;

  constructor(code: RegistrationErrorCode, description: string, options?: { cause?: unknown; field?: string }) {
    super(code, description, options);
    this.field = options?.field;
  }
}

/** The policy denied the request; rendered with the decision's reasons. */
export class RegistrationDeniedError extends GatehouseError<'access_denied'> {
  override readonly name = 'RegistrationDeniedError';
  readonly decision: Decision;

  constructor(decision: Decision) {
    super('access_denied', `The request breaks policy ${decision.policyVersion}: ${decision.reasons.map((r) => r.code).join(', ')}`);
    this.decision = decision;
  }
}

/**
 * The caller used up the anonymous registration quota of its address for the day; rendered with Retry-After.
 * The code is Gatehouse's own: RFC 7591 has none for a quota, and RFC 6749's `temporarily_unavailable` (which Gatehouse
 * answers when a dependency is down) says the server is unwell, not that this caller must wait.
 */
export class RegistrationQuotaError extends GatehouseError<'registration_quota_exceeded'> {
  override readonly name = 'RegistrationQuotaError';
  readonly limit: number;
  /** Seconds until the quota's window ends. */
  readonly retryAfterSeconds: number;

  constructor(limit: number, retryAfterSeconds: number) {
    super(
      'registration_quota_exceeded',
      `At most ${limit} registrations without a software statement are accepted per address and day; try again after the day ends (UTC), or register with a software statement.`,
    );
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
