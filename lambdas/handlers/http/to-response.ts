import type { APIGatewayProxyResult } from 'aws-lambda';
import { ServiceError } from '../../core/errors.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { RegistrationDeniedError, RegistrationError } from '../../core/registration/errors.js';
import { RegistryError } from '../../core/registry/errors.js';
import { RotationError } from '../../core/rotation/errors.js';
import type { Log } from '../../core/services.js';
import { HttpError } from './errors.js';
import { json, problem } from './respond.js';

/** The one place where errors become HTTP responses, each in its protocol's format. */
export function toHttpResponse(error: unknown, log: Log): APIGatewayProxyResult {
  if (error instanceof OAuthError) {
    const headers: Record<string, string> = {};
    if (error.status === 401 && error.challenge) {
      headers['www-authenticate'] =
        error.challenge === 'Basic' ? 'Basic realm="gatehouse", charset="UTF-8"' : `Bearer realm="gatehouse", error="${error.code}"`;
    }
    return json(error.status, { error: error.code, error_description: error.message }, headers);
  }
  if (error instanceof RegistrationError) {
    const status = error.code === 'idempotency_key_reused' ? 422 : 400;
    return json(status, { error: error.code, error_description: error.message, ...(error.field ? { field: error.field } : {}) });
  }
  if (error instanceof RegistrationDeniedError) {
    const d = error.decision;
    return json(403, {
      error: 'access_denied',
      error_description: 'The request breaks the access policy; see reasons.',
      policy_version: d.policyVersion,
      risk: d.risk,
      reasons: d.reasons.map((r) => ({ code: r.code, message: r.message, ...(r.subject ? { subject: r.subject } : {}) })),
    });
  }
  if (error instanceof HttpError) {
    return problem(error.status, error.code.replaceAll('_', '-'), error.code.replaceAll('_', ' '), error.message);
  }
  if (error instanceof ServiceError && error.code === 'dependency_unavailable') {
    return problem(503, 'service-unavailable', 'Service unavailable', error.message, { 'retry-after': String(error.retryAfterSeconds ?? 5) });
  }
  if (error instanceof ServiceError && error.code === 'conflict') {
    return problem(409, 'conflict', 'Conflict', error.message);
  }
  if (error instanceof ServiceError && error.code === 'not_found') {
    return problem(404, 'not-found', 'Not found', error.message);
  }
  if (error instanceof RotationError) {
    // Only local mode rotates inside a request (Secrets Manager runs the steps on its own); nothing changed either way.
    return problem(409, 'rotation-refused', 'Rotation refused', error.message);
  }
  if (error instanceof RegistryError && error.code === 'invalid_cursor') {
    return problem(400, 'invalid-cursor', 'Invalid cursor', error.message);
  }
  if (error instanceof RegistryError && error.code === 'unavailable') {
    log.error('registry unavailable', { error: error.name, cause: (error.cause as Error | undefined)?.name });
    return problem(503, 'service-unavailable', 'Service unavailable', 'A dependency is unavailable; nothing was changed. Try again shortly.', {
      'retry-after': '5',
    });
  }
  if (error instanceof RegistryError && error.code === 'condition_failed') {
    return problem(409, 'conflict', 'Conflict', 'The record changed while this request ran; nothing was changed. Retry the request.');
  }
  log.error('unhandled error', { error: (error as Error)?.name, message: (error as Error)?.message });
  return problem(500, 'internal', 'Internal error', 'Something went wrong on our side; nothing was changed.');
}
