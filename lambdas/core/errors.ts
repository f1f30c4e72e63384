/** Failures that are not the caller's fault and not protocol errors: rendered as RFC 9457 problems. */
export type ServiceErrorCode = 'dependency_unavailable' | 'conflict' | 'not_found' | 'internal';

/** A service-level failure; `retryAfterSeconds` becomes a Retry-After header on 503. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ServiceErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
