import { ServiceError } from '../errors.js';
import { reassess } from '../policy/reassess.js';
import type { Operator } from '../admin/operators.js';
import type { Needs } from '../services.js';
import type { ChangeRequest } from './change-request.js';
import { RequestError } from './errors.js';
import { liveRequests, openRequest } from './open-request.js';

/**
 * Asks reviewers to reinstate a suspended consumer. Only a consumer that meets the deployed policy (counting exceptions
 * in force) can be reinstated; otherwise the answer lists what it breaks, so the operator knows to fix it or ask for an
 * exception first. Reviewers approve as many times as the consumer's risk needs (at least once).
 */
export async function requestReinstatement(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests', 'workflow'>,
  operator: Operator,
  clientId: string,
  reason: string,
): Promise<ChangeRequest> {
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  if (consumer.status !== 'suspended')
    throw new RequestError('consumer_not_eligible', `Only a suspended consumer can be reinstated; ${clientId} is ${consumer.status}.`);
  const now = services.clock.now();
  if (Date.parse(consumer.expiresAt) <= now.getTime())
    throw new RequestError('consumer_not_eligible', `The grant of ${clientId} ended on ${consumer.expiresAt}; register again.`);
  const assessed = reassess(services.policy, { ...consumer, approvals: [] }, now);
  const blocking = assessed.reasons.filter((r) => r.code !== 'approvals_insufficient');
  if (blocking.length > 0) {
    throw new RequestError(
      'out_of_policy',
      `${clientId} does not meet the policy: ${blocking.map((r) => `${r.code} (${r.message})`).join('; ')}. Fix it or ask for an exception first.`,
    );
  }
  const pending = (await liveRequests(services, clientId)).find((r) => r.type === 'reinstatement' && r.status === 'pending_review');
  if (pending) throw new RequestError('request_pending', `A reinstatement of ${clientId} is already under review (${pending.requestId}).`);

  return openRequest(
    services,
    consumer,
    operator,
    { type: 'reinstatement', justification: reason, risk: assessed.decision.risk, requirements: assessed.decision.requirements },
    { reason },
  );
}
