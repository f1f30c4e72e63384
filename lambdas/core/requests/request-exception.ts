import { ServiceError } from '../errors.js';
import { activeExceptions } from '../exceptions/effective.js';
import type { ExceptionGrant } from '../exceptions/rules.js';
import { reassess } from '../policy/reassess.js';
import { longestAccessTokenTtlSeconds } from '../tokens/lifetime.js';
import type { Operator } from '../admin/operators.js';
import type { Needs } from '../services.js';
import type { ChangeRequest } from './change-request.js';
import { RequestError } from './errors.js';
import { liveRequests, openRequest } from './open-request.js';

const DAY_MS = 86_400_000;

export interface ExceptionInput {
  readonly clientId: string;
  readonly grant: ExceptionGrant;
  readonly justification: string;
  readonly expiresAt: Date;
}

/**
 * Asks reviewers for a time-boxed exception to one policy rule for one consumer. Refused when the rule would not change
 * anything (the consumer already meets it, or the value is no laxer than the requirement), when the policy allows no
 * exceptions at the consumer's risk or the end date is past its maximum or the grant's end, or when the same rule already
 * has an exception pending or in force. The exception takes effect only once the reviewers approve it.
 */
export async function requestException(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests', 'workflow'>,
  operator: Operator,
  input: ExceptionInput,
): Promise<ChangeRequest> {
  const consumer = await services.consumers.getConsumer(input.clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${input.clientId}.`);
  if (consumer.status !== 'active' && consumer.status !== 'suspended') {
    throw new RequestError('consumer_not_eligible', `A ${consumer.status} consumer cannot hold exceptions.`);
  }
  const now = services.clock.now();
  const assessed = reassess(services.policy, consumer, now);
  const requirements = assessed.decision.requirements;
  const { grant } = input;

  if (requirements.maxExceptionDays === 0)
    throw new RequestError('exception_not_allowed', `The policy allows no exceptions at ${assessed.decision.risk} risk.`);
  const maxEnd = now.getTime() + requirements.maxExceptionDays * DAY_MS;
  if (input.expiresAt.getTime() <= now.getTime()) throw new RequestError('invalid_exception', 'expires_at must be in the future.');
  if (input.expiresAt.getTime() > maxEnd) {
    throw new RequestError(
      'invalid_exception',
      `At ${assessed.decision.risk} risk an exception lasts at most ${requirements.maxExceptionDays} days (until ${new Date(maxEnd).toISOString()}).`,
    );
  }
  if (input.expiresAt.getTime() > Date.parse(consumer.expiresAt)) {
    throw new RequestError('invalid_exception', `An exception cannot outlast the grant, which ends ${consumer.expiresAt}.`);
  }

  switch (grant.rule) {
    case 'auth_method':
      // An exception keeps a consumer working with the method it has; it never hands out a weaker credential.
      if (grant.value !== consumer.authMethod) {
        throw new RequestError(
          'invalid_exception',
          `${consumer.clientId} authenticates with ${consumer.authMethod}; an auth_method exception can only keep that method.`,
        );
      }
      if (!assessed.reasons.concat(assessed.waived).some((r) => r.code === 'auth_method_too_weak')) {
        throw new RequestError('exception_not_needed', `The policy allows ${consumer.authMethod} at ${assessed.decision.risk} risk; no exception is needed.`);
      }
      break;
    case 'sender_constraint':
      if (consumer.dpopBoundAccessTokens === true)
        throw new RequestError('invalid_exception', `${consumer.clientId} registered for DPoP-bound access tokens itself; an exception cannot lift that.`);
      if (requirements.senderConstraint !== 'dpop')
        throw new RequestError('exception_not_needed', `${assessed.decision.risk} risk does not require DPoP; no exception is needed.`);
      break;
    case 'dormancy_days':
      if (grant.value <= requirements.dormancyDays)
        throw new RequestError('exception_not_needed', `The dormancy window is already ${requirements.dormancyDays} days.`);
      break;
    case 'access_token_ttl_seconds':
      if (grant.value <= requirements.accessTokenTtlSeconds)
        throw new RequestError('exception_not_needed', `Access tokens already last ${requirements.accessTokenTtlSeconds} s.`);
      // Resource servers can refuse a token (revocation list) and verify it after a key rotation only for the policy's
      // longest TTL: a longer-lived token would outlive both.
      if (grant.value > longestAccessTokenTtlSeconds(services.policy))
        throw new RequestError(
          'invalid_exception',
          `Access tokens may live at most ${longestAccessTokenTtlSeconds(services.policy)} s under this policy (its longest access-token TTL), so that every token can still be revoked.`,
        );
      break;
  }

  const requests = await liveRequests(services, consumer.clientId);
  const clash = requests.find((r) => r.type === 'exception' && r.grant?.rule === grant.rule && (r.status === 'pending_review' || r.status === 'active'));
  if (clash || activeExceptions(consumer, now).some((e) => e.rule === grant.rule)) {
    throw new RequestError(
      'request_pending',
      `${consumer.clientId} already has a ${grant.rule} exception ${clash?.status === 'pending_review' ? 'under review' : 'in force'}${clash ? ` (${clash.requestId})` : ''}.`,
    );
  }

  return openRequest(
    services,
    consumer,
    operator,
    { type: 'exception', justification: input.justification, risk: assessed.decision.risk, requirements, grant, expiresAt: input.expiresAt.toISOString() },
    { rule: grant.rule, value: grant.value, expiresAt: input.expiresAt.toISOString(), justification: input.justification },
  );
}
