import { DecryptionFailure } from '@aws-sdk/client-secrets-manager';
import { SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { ValidationException } from '@aws-sdk/client-sfn';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../lambdas/core/errors.js';
import { RegistryError } from '../../../lambdas/core/registry/errors.js';
import { isTransientDependencyError, toHttpResponse } from '../../../lambdas/handlers/http/to-response.js';
import { recordingLog } from '../fixtures.js';
import { DYNAMO_FAULTS, expectUnavailable, SECRETS_FAULTS, sesThrottled, sfnThrottled } from './fault-plane.js';

/** How lambdas/handlers/http/to-response.ts renders an outage: 503 with Retry-After, in the route's protocol, and logged. */
describe('toHttpResponse for an unavailable dependency', () => {
  const transient = [
    ...Object.entries(DYNAMO_FAULTS).map(([name, make]) => [`DynamoDB ${name}`, make] as const),
    ...Object.entries(SECRETS_FAULTS).map(([name, make]) => [`Secrets Manager ${name}`, make] as const),
    ['SES TooManyRequestsException', sesThrottled],
    ['Step Functions ThrottlingException', sfnThrottled],
    // middy's own error when the function is about to run out of time (timeoutEarly).
    ['middy TimeoutError', () => Object.assign(new Error('[AbortError]: The operation was aborted.'), { name: 'TimeoutError' })],
  ] as const;

  it.each(transient)('answers 503 with Retry-After and logs it for an AWS error the core did not wrap: %s', (_label, make) => {
    const log = recordingLog();
    const error = make();

    const response = toHttpResponse(error, log);

    expect(isTransientDependencyError(error)).toBe(true);
    expectUnavailable(response, 'problem', '5');
    expect(log.error).toHaveBeenCalledWith('dependency unavailable', { error: error.name });
    expect(response.body).not.toContain(error.message);
  });

  it.each([
    ['DecryptionFailure (a disabled KMS key)', () => new DecryptionFailure({ message: 'KMS key is disabled', $metadata: { httpStatusCode: 400 } })],
    [
      'AccessDeniedException (a missing grant)',
      () =>
        new SESv2ServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          message: 'not authorized to perform ses:SendEmail',
          $metadata: { httpStatusCode: 403 },
        }),
    ],
    ['ValidationException (a bad request of ours)', () => new ValidationException({ message: 'invalid input', $metadata: { httpStatusCode: 400 } })],
    ['a plain Error', () => new Error('bug')],
  ] as const)('answers 500 without Retry-After for an error retrying cannot fix: %s', (_label, make) => {
    const log = recordingLog();

    const response = toHttpResponse(make(), log);

    expect(isTransientDependencyError(make())).toBe(false);
    expect(response.statusCode).toBe(500);
    expect(response.headers).not.toHaveProperty('retry-after');
    expect(log.error).toHaveBeenCalledWith('unhandled error', expect.objectContaining({ error: make().name }));
  });

  it.each([
    [
      'a registry read DynamoDB refuses as invalid',
      () => new RegistryError('unavailable', 'down', { cause: new ValidationException({ message: 'invalid', $metadata: { httpStatusCode: 400 } }) }),
    ],
    [
      'a workflow start the role may not make',
      () =>
        new ServiceError('dependency_unavailable', 'later', {
          cause: new SESv2ServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'no', $metadata: { httpStatusCode: 403 } }),
        }),
    ],
    [
      'a secret read whose KMS key is disabled',
      () => new ServiceError('dependency_unavailable', 'later', { cause: new DecryptionFailure({ message: 'disabled', $metadata: { httpStatusCode: 400 } }) }),
    ],
  ] as const)('answers 500 without Retry-After for %s: the wrapped AWS error is one retrying cannot fix', (_label, make) => {
    const log = recordingLog();

    const response = toHttpResponse(make(), log, { protocol: 'oauth' });

    expect(response.statusCode).toBe(500);
    expect(response.headers).not.toHaveProperty('retry-after');
    expect(log.error).toHaveBeenCalledWith('dependency refused the call', expect.objectContaining({ error: (make().cause as Error).name }));
  });

  it('keeps the core’s account of what it did in a 500 for a permanent cause (a decision recorded but not delivered)', () => {
    const recorded = 'Your decision is recorded but could not reach the workflow yet; submit it again in a moment.';
    const cause = new ValidationException({ message: 'no such state machine', $metadata: { httpStatusCode: 400 } });

    const response = toHttpResponse(new ServiceError('dependency_unavailable', recorded, { cause }), recordingLog());

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ status: 500, detail: recorded });
    expect(JSON.parse(toHttpResponse(new RegistryError('unavailable', 'down', { cause }), recordingLog()).body)).toMatchObject({
      detail: 'Something went wrong on our side; nothing was changed.',
    });
  });

  it('tells a transaction DynamoDB cancelled for throttling or a conflict (retry) from one cancelled by a condition (no retry)', () => {
    const cancelled = (...codes: string[]) =>
      new TransactionCanceledException({ message: 'cancelled', $metadata: { httpStatusCode: 400 }, CancellationReasons: codes.map((Code) => ({ Code })) });
    expect(isTransientDependencyError(cancelled('None', 'ThrottlingError'))).toBe(true);
    expect(isTransientDependencyError(cancelled('TransactionConflict', 'None'))).toBe(true);
    expect(isTransientDependencyError(cancelled('ProvisionedThroughputExceeded'))).toBe(true);
    expect(isTransientDependencyError(cancelled('ConditionalCheckFailed', 'None'))).toBe(false);
    expect(isTransientDependencyError(cancelled('ValidationError'))).toBe(false);
    expectUnavailable(toHttpResponse(new RegistryError('unavailable', 'down', { cause: cancelled('ThrottlingError') }), recordingLog()), 'problem', '5');
  });

  it('logs a dependency_unavailable ServiceError with its cause, so the function fault alarm counts it', () => {
    const log = recordingLog();

    const response = toHttpResponse(new ServiceError('dependency_unavailable', 'later', { cause: sfnThrottled(), retryAfterSeconds: 30 }), log);

    expectUnavailable(response, 'problem', '30');
    expect(log.error).toHaveBeenCalledWith('dependency unavailable', { error: 'ServiceError', cause: 'ThrottlingException' });
  });

  it.each([
    ['a registry outage', new RegistryError('unavailable', 'down', { cause: DYNAMO_FAULTS.TimeoutError() }), '5'],
    [
      'a dependency_unavailable ServiceError',
      new ServiceError('dependency_unavailable', 'The client secret cannot be read right now.', { retryAfterSeconds: 30 }),
      '30',
    ],
    ['an unwrapped AWS throttling error', SECRETS_FAULTS.ThrottlingException(), '5'],
  ] as const)('writes %s as OAuth temporarily_unavailable when asked for the OAuth format', (_label, error, retryAfter) => {
    const response = toHttpResponse(error, recordingLog(), { protocol: 'oauth' });

    expectUnavailable(response, 'oauth', retryAfter);
    expect(JSON.parse(response.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store' });
  });
});
