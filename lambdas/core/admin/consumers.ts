import { verifyChain, type Actor, type AuditEvent } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { applyTransition, transition } from '../consumer/transition.js';
import { dormancyCutoff } from '../lifecycle/attention.js';
import { notify } from '../lifecycle/notify.js';
import { revoke, type RevokeServices } from '../lifecycle/sweep.js';
import { ServiceError } from '../errors.js';
import { consumerRevocation } from '../revocation/revocation-list.js';
import { randomToken, sha256B64u } from '../util/hash.js';
import { operatorActor, type Operator } from './operators.js';
import type { Needs } from '../services.js';

export type { Operator } from './operators.js';

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
  services: Needs<'getConsumer' | 'listAudit'>,
  clientId: string,
): Promise<{ consumer: Consumer; events: AuditEvent[]; chain: { ok: boolean; brokenAt?: number } }> {
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  const events = await services.consumers.listAudit(clientId);
  return { consumer, events, chain: verifyChain(events, { seq: consumer.auditSeq, hash: consumer.auditHead }) };
}

/**
 * Starts an off-schedule rotation of a consumer's client secret (e.g. after a suspected leak). The request is audited
 * under the operator; the rotation's own steps are audited as they run. The old secret keeps its grace window, unless the
 * operator reports it `compromised`: then it stops working at once (so does the grace of an earlier rotation), and the
 * registration access token is replaced, so whoever holds a leaked registration response cannot fetch the next secret.
 * The new registration access token is returned once, for the operator to hand to the consumer's owner.
 */
export async function requestSecretRotation(
  services: Needs<'getConsumer' | 'updateConsumer', 'clientSecrets'>,
  clientId: string,
  operator: Operator,
  reason: string,
  options: { readonly compromised?: boolean } = {},
): Promise<{ consumer: Consumer; registrationToken?: string }> {
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  if (consumer.secretHash === undefined)
    throw new ServiceError('conflict', `${clientId} authenticates with ${consumer.authMethod}; it has no client secret to rotate.`);
  if (consumer.status !== 'active' && consumer.status !== 'suspended')
    throw new ServiceError('conflict', `A ${consumer.status} consumer's secret is not rotated.`);
  const now = services.clock.now();
  const actor: Actor = operatorActor(operator);
  if (options.compromised === true) {
    const registrationToken = randomToken();
    // Tokens issued with the reported secret (by anyone holding it) are refused from now on, here and at resource servers.
    const revocation = consumerRevocation(clientId, consumer.status, now, services.config, services.policy);
    const updated = await transition(services, {
      clientId,
      to: undefined,
      event: 'credentials.rotation_requested',
      actor,
      data: { kind: 'client_secret', reason, compromised: true, registrationTokenRotated: true, tokensRevokedThrough: revocation.since },
      revocation,
      set: {
        tokensRevokedThrough: revocation.since,
        secretCompromisedAt: now.toISOString(),
        previousSecretHash: undefined,
        previousSecretExpiresAt: undefined,
        registrationTokenHash: sha256B64u(registrationToken),
      },
    });
    await services.clientSecrets.rotateNow(clientId);
    return { consumer: updated, registrationToken };
  }
  if (consumer.previousSecretExpiresAt !== undefined && Date.parse(consumer.previousSecretExpiresAt) > now.getTime()) {
    throw new ServiceError(
      'conflict',
      `The previous secret works until ${consumer.previousSecretExpiresAt}; rotating again now would cut its grace window short (report it compromised to end it at once).`,
    );
  }
  const updated = await transition(services, {
    clientId,
    to: undefined,
    event: 'credentials.rotation_requested',
    actor,
    data: { kind: 'client_secret', reason },
  });
  await services.clientSecrets.rotateNow(clientId);
  return { consumer: updated };
}

/** Suspends a consumer at once (an incident, a partner's request): no tokens until it is reinstated through review. */
export async function suspendConsumer(
  services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>,
  clientId: string,
  operator: Operator,
  reason: string,
): Promise<Consumer> {
  const actor: Actor = operatorActor(operator);
  const { consumer, applied } = await applyTransition(services, {
    clientId,
    to: 'suspended',
    event: 'consumer.suspended',
    actor,
    data: { reason: 'operator', detail: reason },
  });
  if (applied) {
    await notify(services, consumer, {
      subject: `[Gatehouse] Access suspended for ${consumer.clientName}`,
      text: `Access of ${consumer.clientName} (${consumer.clientId}) was suspended by the bank's operators: ${reason}\nNo new tokens are issued until it is reinstated.`,
    });
  }
  return consumer;
}

/** Revokes a consumer at once (commercial termination): final, with the same effects as an expired grant. */
export async function terminateConsumer(services: RevokeServices, clientId: string, operator: Operator, reason: string): Promise<Consumer> {
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
  if (consumer.status === 'revoked') return consumer;
  if (consumer.status !== 'active' && consumer.status !== 'suspended') {
    throw new ServiceError('conflict', `A ${consumer.status} consumer has no access to terminate.`);
  }
  await revoke(services, consumer, 'terminated', reason, operatorActor(operator));
  return (await services.consumers.getConsumer(clientId)) ?? consumer;
}

/** Filters of the operators' listing. */
export interface ConsumerFilter {
  readonly status?: Consumer['status'] | undefined;
  readonly tier?: Consumer['tier'] | undefined;
  /** Active consumers that the sweep will suspend as dormant within this many days. */
  readonly dormantWithinDays?: number | undefined;
  /** Active or suspended consumers whose grant ends within this many days. */
  readonly expiringWithinDays?: number | undefined;
}

const DAY_MS = 86_400_000;

/** One page of the listing, filtered; `next` continues it (a page may hold fewer matches than `limit`). */
export async function listConsumers(
  services: Needs<'listConsumers'>,
  filter: ConsumerFilter,
  page: { readonly limit: number; readonly next?: string | undefined },
): Promise<{ consumers: Consumer[]; next?: string | undefined }> {
  const now = services.clock.now().getTime();
  const out = await services.consumers.listConsumers(page.limit, page.next);
  const consumers = out.consumers.filter((c) => {
    if (filter.status !== undefined && c.status !== filter.status) return false;
    if (filter.tier !== undefined && c.tier !== filter.tier) return false;
    if (filter.dormantWithinDays !== undefined && (c.status !== 'active' || dormancyCutoff(c) > now + filter.dormantWithinDays * DAY_MS)) return false;
    if (filter.expiringWithinDays !== undefined) {
      if (c.status !== 'active' && c.status !== 'suspended') return false;
      if (Date.parse(c.expiresAt) > now + filter.expiringWithinDays * DAY_MS) return false;
    }
    return true;
  });
  return { consumers, next: out.next };
}
