import { chainEvent, type Actor, type AuditEventType } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import type { IdempotencyRecord } from '../ports.js';
import { RegistryError } from '../registry/errors.js';
import type { Services } from '../services.js';
import type { Consumer, ConsumerStatus } from './consumer.js';
import { canTransition } from './lifecycle.js';

export interface TransitionRequest {
  readonly clientId: string;
  /** Target status, or undefined for a change that keeps the status (still audited). */
  readonly to: ConsumerStatus | undefined;
  readonly event: AuditEventType;
  readonly actor: Actor;
  readonly data: Readonly<Record<string, unknown>>;
  readonly set?: Partial<Omit<Consumer, 'clientId' | 'auditSeq' | 'auditHead' | 'status'>>;
  /** Written in the same transaction, e.g. the stored response of an idempotent request. */
  readonly idempotency?: IdempotencyRecord | undefined;
  /** Deletes a stored idempotent response in the same transaction (its request did not complete). */
  readonly releaseIdempotency?: string | undefined;
}

const ATTEMPTS = 4;

/**
 * Applies a lifecycle change with its audit event in one registry transaction (optimistic concurrency on the audit
 * sequence; a lost race is re-read and re-applied). Idempotent for retries: a consumer already in the target status is
 * returned unchanged.
 */
export async function transition(services: Services, request: TransitionRequest): Promise<Consumer> {
  for (let attempt = 1; ; attempt++) {
    const consumer = await services.registry.getConsumer(request.clientId);
    if (!consumer) throw new ServiceError('not_found', `No consumer ${request.clientId}`);
    if (request.to !== undefined && consumer.status === request.to) return consumer;
    if (request.to !== undefined && !canTransition(consumer.status, request.to)) {
      throw new ServiceError('conflict', `A ${consumer.status} consumer cannot become ${request.to}`);
    }
    const at = services.clock.now().toISOString();
    const audit = chainEvent(
      { seq: consumer.auditSeq, head: consumer.auditHead },
      { clientId: consumer.clientId, type: request.event, at, actor: request.actor, data: request.data },
    );
    const set = { ...request.set, ...(request.to === undefined ? {} : { status: request.to }), updatedAt: at };
    try {
      await services.registry.updateConsumer(
        {
          clientId: consumer.clientId,
          expect: { statuses: [consumer.status], auditSeq: consumer.auditSeq },
          set,
          audit,
          ...(request.releaseIdempotency ? { releaseIdempotency: request.releaseIdempotency } : {}),
        },
        request.idempotency,
      );
      return { ...consumer, ...set, auditSeq: audit.seq, auditHead: audit.hash };
    } catch (error) {
      // Only a lost race on the consumer record is worth re-reading; any other failed condition is final.
      const lostRace = error instanceof RegistryError && error.code === 'condition_failed' && (error.item === 'consumer' || error.item === undefined);
      if (!lostRace || attempt >= ATTEMPTS) throw error;
    }
  }
}
