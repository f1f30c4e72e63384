import { verifyChain, type Actor, type AuditEvent } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { transition } from '../consumer/transition.js';
import { ServiceError } from '../errors.js';
import type { Services } from '../services.js';

/** An operator, as IAM (or local mode's admin token) identified them; every admin change is audited under this id. */
export interface Operator {
  readonly id: string;
}

/** What operators see of a consumer: everything but credential hashes. */
export function consumerView(consumer: Consumer): Record<string, unknown> {
  const { secretHash, pendingSecretHash, previousSecretHash, registrationTokenHash, ...rest } = consumer;
  return {
    ...rest,
    usesClientSecret: secretHash !== undefined,
    secretRotationUnderWay: pendingSecretHash !== undefined,
    previousSecretAccepted: previousSecretHash !== undefined && consumer.previousSecretExpiresAt !== undefined,
    hasRegistrationToken: registrationTokenHash.length > 0,
  };
}

/** A consumer with its audit trail, the chain checked against the head the consumer record carries. */
export async function consumerWithAudit(
  services: Services,
  clientId: string,
): Promise<{ consumer: Consumer; events: AuditEvent[]; chain: { ok: boolean; brokenAt?: number } }> {
  const consumer = await services.registry.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  const events = await services.registry.listAudit(clientId);
  return { consumer, events, chain: verifyChain(events, { seq: consumer.auditSeq, hash: consumer.auditHead }) };
}

/**
 * Starts an off-schedule rotation of a consumer's client secret (e.g. after a suspected leak). The request is audited
 * under the operator; the rotation's own steps are audited as they run. The old secret keeps its grace window.
 */
export async function requestSecretRotation(services: Services, clientId: string, operator: Operator, reason: string): Promise<Consumer> {
  const consumer = await services.registry.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  if (consumer.secretHash === undefined) throw new ServiceError('conflict', `${clientId} authenticates with ${consumer.authMethod}; it has no client secret to rotate.`);
  if (consumer.status !== 'active' && consumer.status !== 'suspended') throw new ServiceError('conflict', `A ${consumer.status} consumer’s secret is not rotated.`);
  const now = services.clock.now();
  if (consumer.previousSecretExpiresAt !== undefined && Date.parse(consumer.previousSecretExpiresAt) > now.getTime()) {
    throw new ServiceError('conflict', `The previous secret works until ${consumer.previousSecretExpiresAt}; rotating again now would cut its grace window short.`);
  }
  const actor: Actor = { kind: 'operator', id: operator.id };
  const updated = await transition(services, { clientId, to: undefined, event: 'credentials.rotation_requested', actor, data: { kind: 'client_secret', reason } });
  await services.clientSecrets.rotateNow(clientId);
  return updated;
}
