import type { OAuthErrorCode } from './oauth/errors.js';
import type { PolicyErrorCode } from './policy/errors.js';
import type { RegistrationErrorCode } from './registration/errors.js';
import type { RecertificationErrorCode } from './recertification/errors.js';
import type { RegistryErrorCode } from './registry/errors.js';
import type { RemoteKeySetErrorCode } from './remote-jwks/errors.js';
import type { RequestErrorCode } from './requests/errors.js';
import type { ReviewErrorCode } from './review/errors.js';
import type { RotationErrorCode } from './rotation/errors.js';

/**
 * The base of every error the core raises on purpose. Each subclass narrows `code` to its module's union; what a code
 * means on the wire (the HTTP status, the protocol's error format) is decided in one place, the HTTP layer's
 * `toHttpResponse`, never by the core.
 */
export abstract class GatehouseError<C extends GatehouseErrorCode = GatehouseErrorCode> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Failures that are not the caller's fault and not protocol errors: rendered as RFC 9457 problems. */
export type ServiceErrorCode = 'dependency_unavailable' | 'conflict' | 'not_found' | 'internal';

/** Every code a GatehouseError can carry. */
export type GatehouseErrorCode =
  | ServiceErrorCode
  | OAuthErrorCode
  | RegistrationErrorCode
  | 'access_denied'
  | 'registration_quota_exceeded'
  | PolicyErrorCode
  | ReviewErrorCode
  | RotationErrorCode
  | RegistryErrorCode
  | RequestErrorCode
  | RemoteKeySetErrorCode
  | RecertificationErrorCode
  | 'mail_unavailable'
  | 'request_ended';

/** A service-level failure; `retryAfterSeconds` becomes a Retry-After header on 503. */
export class ServiceError extends GatehouseError<ServiceErrorCode> {
  override readonly name = 'ServiceError';
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ServiceErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
