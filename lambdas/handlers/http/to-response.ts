import type { APIGatewayProxyResult } from 'aws-lambda';
import { ServiceError } from '../../core/errors.js';
import { OAuthError, type Challenge, type OAuthErrorCode } from '../../core/oauth/errors.js';
import { RegistrationDeniedError, RegistrationError, RegistrationQuotaError } from '../../core/registration/errors.js';
import { RegistryError } from '../../core/registry/errors.js';
import { RequestError, type RequestErrorCode } from '../../core/requests/errors.js';
import type { ReviewError, ReviewErrorCode } from '../../core/review/errors.js';
import type { RecertificationError, RecertificationErrorCode } from '../../core/recertification/errors.js';
import { RotationError } from '../../core/rotation/errors.js';
import type { Log } from '../../core/services.js';
import { HttpError, type HttpErrorCode } from './errors.js';
import { json, problem } from './respond.js';

/** RFC 6749 section 5.2 and RFC 6750 section 3.1: a client or token that failed authentication is 401, the rest 400. */
const OAUTH_STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_token: 401,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  unsupported_token_type: 400,
  temporarily_unavailable: 503,
};

const EDGE_STATUS: Readonly<Record<HttpErrorCode, number>> = {
  payload_too_large: 413,
  unsupported_media_type: 415,
  malformed_body: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
};

/** Change requests refused before anything was stored: bad input 400, forbidden 403, the consumer's state 409. */
const REQUEST_STATUS: Readonly<Record<RequestErrorCode, number>> = {
  invalid_exception: 400,
  exception_not_needed: 409,
  exception_not_allowed: 403,
  consumer_not_eligible: 409,
  out_of_policy: 409,
  request_pending: 409,
  operator_unknown: 403,
  too_few_reviewers: 409,
};

/** Review pages: a link that is not (or no longer) the reviewer's to use is 403, gone with the review period 410. */
const REVIEW_STATUS: Readonly<Record<ReviewErrorCode, number>> = {
  link_invalid: 403,
  link_expired: 410,
  already_decided: 409,
  not_eligible: 403,
  csrf_failed: 403,
  comment_required: 400,
  no_eligible_reviewer: 409,
};

/** The status of a change request refused before anything was stored, for pages that render it as HTML. */
export function requestErrorStatus(error: RequestError): number {
  return REQUEST_STATUS[error.code];
}

/** The status of a refused review action, for the review page that renders it as HTML. */
export function reviewErrorStatus(error: ReviewError): number {
  return REVIEW_STATUS[error.code];
}

/**
 * Error names and Node.js error codes of a dependency that is throttling, overloaded, timing out or unreachable: the AWS
 * SDK's own classification (@smithy service-error-classification), after its retries have run out. Anything else an AWS
 * call throws (access denied, validation, a missing resource) is a fault of ours and stays a 500.
 */
const THROTTLING_ERRORS = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
  'KmsThrottlingException',
]);
const TRANSIENT_ERRORS = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalServerError',
  'InternalServiceError',
  'InternalServiceErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
/** DynamoDB's reasons for cancelling a transaction that a later attempt can get past (a failed condition is a 409 instead). */
const TRANSIENT_CANCELLATION_CODES = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'TransactionConflict']);
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** Whether an error is an AWS dependency being temporarily unavailable (see THROTTLING_ERRORS), not a fault of ours. */
export function isTransientDependencyError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & {
    code?: unknown;
    $fault?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
    CancellationReasons?: ReadonlyArray<{ Code?: string }>;
  };
  const status = e.$metadata?.httpStatusCode;
  return (
    THROTTLING_ERRORS.has(e.name) ||
    (e.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => TRANSIENT_CANCELLATION_CODES.has(r.Code ?? ''))) ||
    TRANSIENT_ERRORS.has(e.name) ||
    (typeof e.code === 'string' && NETWORK_ERROR_CODES.has(e.code)) ||
    e.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500 && status <= 504)
  );
}

/**
 * The AWS service error behind a wrapped failure when retrying cannot help: the service answered, and with something
 * other than throttling or an outage (access denied, a validation error, a disabled KMS key, a missing table). That is a
 * fault of the deployment or of ours, so the caller gets 500 rather than a 503 inviting retries that would fail the same.
 */
export function permanentServiceCause(error: Error): Error | undefined {
  const cause = error.cause;
  if (!(cause instanceof Error) || !('$metadata' in cause) || isTransientDependencyError(cause)) return undefined;
  return cause;
}

/**
 * 500 for a dependency that refused a call for good (see permanentServiceCause), logged at error level with its name;
 * `detail` is the core's own account of what was and was not done, when it gave one.
 */
function dependencyFault(cause: Error, log: Log, detail = 'Something went wrong on our side; nothing was changed.'): APIGatewayProxyResult {
  log.error('dependency refused the call', { error: cause.name, message: cause.message });
  return problem(500, 'internal', 'Internal error', detail);
}

/**
 * How a route's refusals are written: RFC 9457 problem JSON (default); RFC 6749 section 5.2 error JSON for the OAuth
 * endpoints; RFC 7591 section 3.2.2 error JSON for registration (RFC 7591 and 7592 routes), whose clients read `error`
 * and `error_description` from every 4xx, transport refusals (size, media type, method) included.
 */
export type Protocol = 'problem' | 'oauth' | 'registration';
export interface ResponseFormat {
  readonly protocol?: Protocol;
}

/** 503 with Retry-After: problem JSON, or `temporarily_unavailable` (RFC 6749 §4.1.2.1's code) for OAuth endpoints. */
function unavailable(detail: string, retryAfterSeconds: number, format: ResponseFormat): APIGatewayProxyResult {
  const headers = { 'retry-after': String(retryAfterSeconds) };
  if (format.protocol === 'oauth') return json(503, { error: 'temporarily_unavailable', error_description: oauthDescription(detail) }, headers);
  return problem(503, 'service-unavailable', 'Service unavailable', detail, headers);
}

const causeName = (error: Error): string | undefined => (error.cause instanceof Error ? error.cause.name : undefined);

/** Typographic quotes become ASCII ones, so the descriptions below stay readable once restricted. */
function plainQuotes(text: string): string {
  return text.replace(/[\u2018\u2019]/g, "'").replace(/[\u201C\u201D]/g, "'");
}

/**
 * RFC 6749 §5.2 and RFC 6750 §3 restrict error_description to %x20-21 / %x23-5B / %x5D-7E; a message that quotes the
 * request (a grant type, a scope) could carry anything, so other characters become `?` (and `"` `'`, `\` `/`).
 */
function oauthDescription(message: string): string {
  return plainQuotes(message)
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/gu, '?');
}

/** RFC 7591 §3.2.2: error_description is human-readable ASCII text. */
function asciiDescription(message: string): string {
  return plainQuotes(message).replace(/[^\x20-\x7E]/gu, '?');
}

const REALM = 'realm="gatehouse"';
const BASIC_CHALLENGE = `Basic ${REALM}, charset="UTF-8"`;

/** The WWW-Authenticate value for a challenge (see Challenge for why body-based methods get their own scheme names). */
function challengeHeader(challenge: Challenge, code: string): string {
  switch (challenge) {
    case 'Basic':
      return BASIC_CHALLENGE;
    case 'private_key_jwt':
    case 'client_secret_post':
      return `${challenge} ${REALM}`;
    case 'client':
      return `private_key_jwt ${REALM}, ${BASIC_CHALLENGE}, client_secret_post ${REALM}`;
    case 'Bearer':
      return `Bearer ${REALM}, error="${code}"`;
    case 'bearer_absent':
      return `Bearer ${REALM}`;
  }
}

/**
 * RFC 7591 section 3.2.2 bodies for the edge's own refusals on registration routes. RFC 7591 registers no code for a
 * body that is not JSON, too large or of another media type: the metadata could not be read, so `invalid_client_metadata`
 * (the status says which); a wrong method or path is `invalid_request`; a missing registration access token is RFC 6750's
 * `invalid_token` with a Bearer challenge (RFC 7592 section 2).
 */
const REGISTRATION_CODES: Readonly<Record<HttpErrorCode, 'invalid_client_metadata' | 'invalid_request' | 'invalid_token'>> = {
  payload_too_large: 'invalid_client_metadata',
  unsupported_media_type: 'invalid_client_metadata',
  malformed_body: 'invalid_client_metadata',
  invalid_request: 'invalid_client_metadata',
  unauthorized: 'invalid_token',
  not_found: 'invalid_request',
  method_not_allowed: 'invalid_request',
};

/**
 * RFC 6749 section 5.2 bodies for the edge's own refusals on the token, introspection and revocation endpoints, so an
 * OAuth client library can read every error they answer: a request that could not be read or went to a wrong method or
 * path is `invalid_request` (the status says which); missing client credentials are `invalid_client`.
 */
const OAUTH_EDGE_CODES: Readonly<Record<HttpErrorCode, 'invalid_request' | 'invalid_client'>> = {
  payload_too_large: 'invalid_request',
  unsupported_media_type: 'invalid_request',
  malformed_body: 'invalid_request',
  invalid_request: 'invalid_request',
  unauthorized: 'invalid_client',
  not_found: 'invalid_request',
  method_not_allowed: 'invalid_request',
};

/** An edge refusal (HttpError) in the route's protocol: RFC 7591 JSON on registration routes, RFC 6749 JSON on OAuth ones, problem JSON elsewhere. */
export function httpErrorResponse(error: HttpError, format: ResponseFormat = {}, headers: Record<string, string> = {}): APIGatewayProxyResult {
  if (format.protocol === 'registration') {
    const code = REGISTRATION_CODES[error.code];
    const challenge: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': challengeHeader('Bearer', code) } : {};
    return json(EDGE_STATUS[error.code], { error: code, error_description: asciiDescription(error.message) }, { ...headers, ...challenge });
  }
  if (format.protocol === 'oauth') {
    const code = OAUTH_EDGE_CODES[error.code];
    const challenge: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': error.challenge ?? challengeHeader('client', code) } : {};
    return json(EDGE_STATUS[error.code], { error: code, error_description: oauthDescription(error.message) }, { ...headers, ...challenge });
  }
  const challenge: Record<string, string> = error.code === 'unauthorized' ? { 'www-authenticate': error.challenge ?? `Bearer ${REALM}` } : {};
  return problem(EDGE_STATUS[error.code], error.code.replaceAll('_', '-'), error.code.replaceAll('_', ' '), error.message, { ...headers, ...challenge });
}

/** What a caller is told when a change may or may not have been made: the truth, and how to retry safely. */
export const OUTCOME_UNKNOWN =
  'The outcome is unknown: the request ran out of time after it may already have changed something. Retry with the same Idempotency-Key, which makes the retry safe, or check the current state before trying again.';

/**
 * Whether the request may have changed something although it failed: the function ran out of time (middy answered just
 * before Lambda's timeout, or local mode's request deadline passed) or a write was sent and never confirmed. Only a
 * refusal known to have been decided before anything was written may say "nothing was changed".
 */
export function outcomeUnknown(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof RegistryError) return error.outcomeUnknown;
  if (error.name === 'AbortError') return true;
  return error.name === 'TimeoutError' && (error.cause as { package?: unknown } | undefined)?.package === '@middy/core';
}

/** The one place where errors become HTTP responses, each in its protocol's format. */
export function toHttpResponse(error: unknown, log: Log, format: ResponseFormat = {}): APIGatewayProxyResult {
  if (outcomeUnknown(error)) {
    log.error('request outcome unknown', { error: (error as Error).name, cause: causeName(error as Error) });
    return unavailable(OUTCOME_UNKNOWN, 5, format);
  }
  if (error instanceof OAuthError) {
    const status = OAUTH_STATUS[error.code];
    const headers: Record<string, string> = {};
    if (status === 401) headers['www-authenticate'] = challengeHeader(error.challenge ?? 'client', error.code);
    if (error.dpopNonce !== undefined) headers['dpop-nonce'] = error.dpopNonce;
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    return json(status, { error: error.code, error_description: oauthDescription(error.message) }, headers);
  }
  if (error instanceof RegistrationError) {
    const status = error.code === 'idempotency_key_reused' ? 422 : error.code === 'update_conflict' ? 409 : 400;
    return json(status, { error: error.code, error_description: asciiDescription(error.message), ...(error.field ? { field: error.field } : {}) });
  }
  if (error instanceof RegistrationQuotaError) {
    return json(
      429,
      { error: error.code, error_description: asciiDescription(error.message), limit: error.limit },
      { 'retry-after': String(error.retryAfterSeconds) },
    );
  }
  if (error instanceof RegistrationDeniedError) {
    // RFC 7591 registers no code for a policy refusal (its codes are about malformed metadata and statements);
    // `access_denied` is RFC 6749's registered code for "the request was refused", so a client reading only `error`
    // sees a refusal, and the 403 with `reasons` says which rules were broken.
    const d = error.decision;
    return json(403, {
      error: 'access_denied',
      error_description: 'The request breaks the access policy; see reasons.',
      policy_version: d.policyVersion,
      risk: d.risk,
      reasons: d.reasons.map((r) => ({ code: r.code, message: r.message, ...(r.subject ? { subject: r.subject } : {}) })),
    });
  }
  if (error instanceof HttpError) return httpErrorResponse(error, format);
  if (error instanceof ServiceError && error.code === 'dependency_unavailable') {
    const permanent = permanentServiceCause(error);
    // The core's message says what state it left (e.g. a review decision recorded but not delivered).
    if (permanent) return dependencyFault(permanent, log, error.message);
    // Logged at error level so the function's fault alarm (ERROR lines) sees every dependency outage that reached a caller.
    log.error('dependency unavailable', { error: error.name, cause: causeName(error) });
    return unavailable(error.message, error.retryAfterSeconds ?? 5, format);
  }
  if (error instanceof ServiceError && error.code === 'conflict') {
    return problem(409, 'conflict', 'Conflict', error.message);
  }
  if (error instanceof ServiceError && error.code === 'not_found') {
    return problem(404, 'not-found', 'Not found', error.message);
  }
  if (error instanceof RequestError) {
    return problem(REQUEST_STATUS[error.code], error.code.replaceAll('_', '-'), error.code.replaceAll('_', ' '), error.message);
  }
  if (error instanceof RotationError) {
    // Only local mode rotates inside a request (Secrets Manager runs the steps on its own); nothing changed either way.
    return problem(409, 'rotation-refused', 'Rotation refused', error.message);
  }
  if (error instanceof RegistryError && error.code === 'invalid_cursor') {
    return problem(400, 'invalid-cursor', 'Invalid cursor', error.message);
  }
  if (error instanceof RegistryError && error.code === 'unavailable') {
    const permanent = permanentServiceCause(error);
    if (permanent) return dependencyFault(permanent, log);
    log.error('registry unavailable', { error: error.name, cause: causeName(error) });
    return unavailable('A dependency is unavailable; nothing was changed. Try again shortly.', 5, format);
  }
  if (error instanceof RegistryError && error.code === 'condition_failed') {
    return problem(409, 'conflict', 'Conflict', 'The record changed while this request ran; nothing was changed. Retry the request.');
  }
  if (isTransientDependencyError(error)) {
    // An AWS call the core does not wrap (e.g. the signing-key read) ran out of SDK retries: the caller may retry too.
    log.error('dependency unavailable', { error: (error as Error).name });
    return unavailable('A dependency is unavailable; nothing was changed. Try again shortly.', 5, format);
  }
  log.error('unhandled error', { error: (error as Error)?.name, message: (error as Error)?.message });
  return problem(500, 'internal', 'Internal error', 'Something went wrong on our side; nothing was changed.');
}

const RECERTIFICATION_STATUS: Record<RecertificationErrorCode, number> = {
  link_invalid: 403,
  link_expired: 410,
  already_attested: 409,
  csrf_failed: 403,
  invalid_choice: 400,
  not_active: 409,
};

/** The status of an attestation page that refuses (rendered as HTML by the recertification handler). */
export function recertificationErrorStatus(error: RecertificationError): number {
  return RECERTIFICATION_STATUS[error.code];
}
