import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../../lambdas/core/errors.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { evaluate } from '../../../../lambdas/core/policy/evaluate.js';
import { RegistrationDeniedError, RegistrationError } from '../../../../lambdas/core/registration/errors.js';
import { RegistryError } from '../../../../lambdas/core/registry/errors.js';
import { HttpError } from '../../../../lambdas/handlers/http/errors.js';
import { OUTCOME_UNKNOWN, reviewErrorStatus, toHttpResponse } from '../../../../lambdas/handlers/http/to-response.js';
import { RequestError } from '../../../../lambdas/core/requests/errors.js';
import { ReviewError } from '../../../../lambdas/core/review/errors.js';
import { NOW, defaultPolicy, recordingLog } from '../../fixtures.js';
import { request } from '../../core/policy/fixtures.js';

const body = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

describe('toHttpResponse', () => {
  it.each([
    ['invalid_client', 401],
    ['invalid_token', 401],
    ['invalid_request', 400],
    ['invalid_scope', 400],
    ['use_dpop_nonce', 400],
  ] as const)('answers the OAuth error %s with %i', (code, status) => {
    expect(toHttpResponse(new OAuthError(code, 'refused'), recordingLog()).statusCode).toBe(status);
  });

  it.each([
    ['invalid_exception', 400],
    ['exception_not_allowed', 403],
    ['request_pending', 409],
  ] as const)('answers the change-request refusal %s with %i', (code, status) => {
    expect(toHttpResponse(new RequestError(code, 'refused'), recordingLog()).statusCode).toBe(status);
  });

  it.each([
    ['link_expired', 410],
    ['link_invalid', 403],
    ['already_decided', 409],
    ['comment_required', 400],
  ] as const)('gives the review page refusal %s the status %i', (code, status) => {
    expect(reviewErrorStatus(new ReviewError(code, 'refused'))).toBe(status);
  });

  it('renders an OAuth error with its RFC 6749 status and no-store headers', () => {
    const response = toHttpResponse(new OAuthError('invalid_scope', 'nope'), recordingLog());

    expect(response.statusCode).toBe(400);
    expect(body(response)).toEqual({ error: 'invalid_scope', error_description: 'nope' });
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' });
    expect(response.headers).not.toHaveProperty('www-authenticate');
  });

  it('challenges with Basic on invalid_client and with Bearer on invalid_token', () => {
    const basic = toHttpResponse(new OAuthError('invalid_client', 'x', { challenge: 'Basic' }), recordingLog());
    const bearer = toHttpResponse(new OAuthError('invalid_token', 'x'), recordingLog());

    expect(basic.statusCode).toBe(401);
    expect(basic.headers).toMatchObject({ 'www-authenticate': 'Basic realm="gatehouse", charset="UTF-8"' });
    expect(bearer.statusCode).toBe(401);
    expect(bearer.headers).toMatchObject({ 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token"' });
  });

  it.each([
    ['private_key_jwt', 'private_key_jwt realm="gatehouse"'],
    ['client_secret_post', 'client_secret_post realm="gatehouse"'],
    ['client', 'private_key_jwt realm="gatehouse", Basic realm="gatehouse", charset="UTF-8", client_secret_post realm="gatehouse"'],
  ] as const)('challenges a failed %s authentication with its own scheme, never Basic alone', (challenge, header) => {
    const response = toHttpResponse(new OAuthError('invalid_client', 'x', { challenge }), recordingLog());

    expect(response.statusCode).toBe(401);
    expect(response.headers).toMatchObject({ 'www-authenticate': header });
  });

  it('challenges every invalid_client, even one built without a challenge', () => {
    const response = toHttpResponse(new OAuthError('invalid_client', 'x'), recordingLog(), { protocol: 'oauth' });

    expect(String(response.headers?.['www-authenticate'])).toMatch(/^private_key_jwt /);
  });

  it.each([
    ['payload_too_large', 413, 'invalid_client_metadata'],
    ['unsupported_media_type', 415, 'invalid_client_metadata'],
    ['malformed_body', 400, 'invalid_client_metadata'],
    ['invalid_request', 400, 'invalid_client_metadata'],
    ['not_found', 404, 'invalid_request'],
    ['method_not_allowed', 405, 'invalid_request'],
  ] as const)('renders HttpError %s on registration routes as RFC 7591 JSON with status %i', (code, status, error) => {
    const response = toHttpResponse(new HttpError(code, 'What went wrong.'), recordingLog(), { protocol: 'registration' });

    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(body(response)).toEqual({ error, error_description: 'What went wrong.' });
  });

  it('renders HttpError unauthorized on registration routes as invalid_token with a Bearer challenge', () => {
    const response = toHttpResponse(new HttpError('unauthorized', 'Token needed.'), recordingLog(), { protocol: 'registration' });

    expect(response.statusCode).toBe(401);
    expect(body(response)).toEqual({ error: 'invalid_token', error_description: 'Token needed.' });
    expect(response.headers).toMatchObject({ 'www-authenticate': 'Bearer realm="gatehouse", error="invalid_token"' });
  });

  it('challenges HttpError unauthorized as problem JSON, with the scheme it names or Bearer', () => {
    const sigv4 = toHttpResponse(new HttpError('unauthorized', 'Sign it.', { challenge: 'AWS4-HMAC-SHA256 realm="gatehouse-admin"' }), recordingLog());
    const plain = toHttpResponse(new HttpError('unauthorized', 'Sign it.'), recordingLog());

    expect(sigv4.statusCode).toBe(401);
    expect(sigv4.headers).toMatchObject({ 'content-type': 'application/problem+json', 'www-authenticate': 'AWS4-HMAC-SHA256 realm="gatehouse-admin"' });
    expect(plain.headers).toMatchObject({ 'www-authenticate': 'Bearer realm="gatehouse"' });
  });

  it('renders a registration error as RFC 7591 JSON with the field, and key reuse as 422', () => {
    const bad = toHttpResponse(new RegistrationError('invalid_client_metadata', 'scope: bad', { field: 'scope' }), recordingLog());
    const reused = toHttpResponse(new RegistrationError('idempotency_key_reused', 'reused'), recordingLog());

    expect(bad.statusCode).toBe(400);
    expect(body(bad)).toEqual({ error: 'invalid_client_metadata', error_description: 'scope: bad', field: 'scope' });
    expect(reused.statusCode).toBe(422);
    expect(body(reused)).toEqual({ error: 'idempotency_key_reused', error_description: 'reused' });
  });

  it('renders a denial as 403 with the policy version, risk and reasons', () => {
    const decision = evaluate(defaultPolicy, request({ tier: 'public', scopes: ['payments:initiate'], dataClasses: ['payment'] }), NOW);

    const response = toHttpResponse(new RegistrationDeniedError(decision), recordingLog());

    expect(response.statusCode).toBe(403);
    expect(body(response)).toMatchObject({ error: 'access_denied', policy_version: defaultPolicy.version, risk: 'high' });
    expect((body(response)['reasons'] as { code: string }[]).map((r) => r.code)).toEqual(decision.reasons.map((r) => r.code));
  });

  it.each([
    ['payload_too_large', 413],
    ['unsupported_media_type', 415],
    ['malformed_body', 400],
    ['not_found', 404],
    ['method_not_allowed', 405],
  ] as const)('renders HttpError %s as an RFC 9457 problem with status %i', (code, status) => {
    const response = toHttpResponse(new HttpError(code, 'detail'), recordingLog());

    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    expect(body(response)).toEqual({
      type: `https://gatehouse.dev/problems/${code.replaceAll('_', '-')}`,
      title: code.replaceAll('_', ' '),
      status,
      detail: 'detail',
    });
  });

  it('renders an unavailable dependency as 503 with Retry-After', () => {
    const service = toHttpResponse(new ServiceError('dependency_unavailable', 'later', { retryAfterSeconds: 30 }), recordingLog());
    const registry = toHttpResponse(new RegistryError('unavailable', 'down', { cause: new Error('ECONNRESET') }), recordingLog());

    expect(service.statusCode).toBe(503);
    expect(service.headers).toMatchObject({ 'retry-after': '30' });
    expect(registry.statusCode).toBe(503);
    expect(registry.headers).toMatchObject({ 'retry-after': '5' });
  });

  it('says the outcome is unknown, never "nothing was changed", when the function ran out of time or a write went unconfirmed', () => {
    const middyTimeout = Object.assign(new Error('[AbortError]: The operation was aborted.', { cause: { package: '@middy/core' } }), { name: 'TimeoutError' });
    const unconfirmed = new RegistryError('unavailable', 'The registry did not confirm the write.', { outcomeUnknown: true });
    for (const error of [middyTimeout, unconfirmed]) {
      const log = recordingLog();
      const problem = toHttpResponse(error, log);
      expect(problem.statusCode).toBe(503);
      expect(problem.headers).toMatchObject({ 'retry-after': '5' });
      expect(body(problem)['detail']).toBe(OUTCOME_UNKNOWN);
      expect(log.error).toHaveBeenCalledWith('request outcome unknown', expect.anything());
      const oauth = toHttpResponse(error, recordingLog(), { protocol: 'oauth' });
      expect(body(oauth)).toMatchObject({ error: 'temporarily_unavailable' });
      expect(String(body(oauth)['error_description'])).toContain('outcome is unknown');
    }
    // An SDK timeout on a read, or a refused write, is still known to have changed nothing.
    const refused = toHttpResponse(new RegistryError('unavailable', 'The registry could not complete the write; nothing was written.'), recordingLog());
    expect(body(refused)['detail']).toContain('nothing was changed');
  });

  it('renders a lost registry race as 409', () => {
    const response = toHttpResponse(new RegistryError('condition_failed', 'raced'), recordingLog());

    expect(response.statusCode).toBe(409);
    expect(body(response)).toMatchObject({ type: 'https://gatehouse.dev/problems/conflict', status: 409 });
  });

  it('renders anything else as 500 without its message, and logs it', () => {
    const log = recordingLog();

    const response = toHttpResponse(new Error('secret=hunter2 leaked in a message'), log);

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(log.error).toHaveBeenCalledWith('unhandled error', expect.objectContaining({ error: 'Error' }));
  });

  it('renders ServiceError conflict as 409 and not_found as 404', () => {
    const conflict = toHttpResponse(new ServiceError('conflict', 'A revoked consumer cannot become active'), recordingLog());
    const notFound = toHttpResponse(new ServiceError('not_found', 'No consumer gh_x'), recordingLog());

    expect(conflict.statusCode).toBe(409);
    expect(notFound.statusCode).toBe(404);
  });
});
