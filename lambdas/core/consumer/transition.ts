import { chainEvent, type Actor, type AuditEventType } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import type { IdempotencyRecord } from '../ports.js';
import type { RequestWrite } from '../requests/change-request.js';
import { RegistryError } from '../registry/errors.js';
import type { Needs } from '../services.js';
import type { Consumer, ConsumerStatus } from './consumer.js';
import { attentionAt } from '../lifecycle/attention.js';
import { canTransition } from './lifecycle.js';
import { nextRecertificationDueAt } from '../recertification/due.js';
import { ACCESS_ENDING_STATUSES, consumerRevocation, type RevokedConsumer } from '../revocation/revocation-list.js';
import { forgetConsumerEverywhere } from '../oauth/consumer-cache.js';

/** What a lifecycle transition reads and writes. */
export type TransitionServices = Needs<'getConsumer' | 'updateConsumer'>;

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
  /**
   * Skips the change (not applied) when this holds for the consumer as read, checked again after every lost race: for
   * changes that keep the status but must happen once (a warning already recorded by a concurrent sweep).
   */
  readonly unless?: ((consumer: Consumer) => boolean) | undefined;
  /** Deletes a stored idempotent response in the same transaction (its request did not complete). */
  readonly releaseIdempotency?: string | undefined;
  /** Creates or updates one of the consumer's change requests in the same transaction. */
  readonly request?: RequestWrite | undefined;
  /**
   * Lists the consumer on the revocation document in the same transaction although its access goes on (a reported
   * secret compromise: the tokens issued before it are refused). A status that ends access lists it anyway.
   */
  readonly revocation?: RevokedConsumer | undefined;
}

const ATTEMPTS = 4;

/**
 * Applies a lifecycle change with its audit event in one registry transaction (optimistic concurrency on the audit
 * sequence; a lost race is re-read and re-applied). Idempotent for retries: a consumer already in the target status is
 * returned unchanged.
 */
export async function transition(services: TransitionServices, request: TransitionRequest): Promise<Consumer> {
  return (await applyTransition(services, request)).consumer;
}

/**
 * transition(), also telling whether this call made the change (false: the consumer already was in the target status,
 * e.g. a concurrent sweep got there first), so side effects run once. `snapshot` spares the first read when the caller
 * already holds a recent copy; a stale one only costs a lost race and a re-read.
 */
export async function applyTransition(
  services: TransitionServices,
  request: TransitionRequest,
  snapshot?: Consumer,
): Promise<{ consumer: Consumer; applied: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const consumer = attempt === 1 && snapshot !== undefined ? snapshot : await services.consumers.getConsumer(request.clientId);
    if (!consumer) throw new ServiceError('not_found', `No consumer ${request.clientId}`);
    if (request.to !== undefined && consumer.status === request.to) return { consumer, applied: false };
    if (request.unless?.(consumer)) return { consumer, applied: false };
    if (request.to !== undefined && !canTransition(consumer.status, request.to)) {
      throw new ServiceError('conflict', `A ${consumer.status} consumer cannot become ${request.to}`);
    }
    const at = services.clock.now().toISOString();
    const audit = chainEvent(
      { seq: consumer.auditSeq, head: consumer.auditHead },
      { clientId: consumer.clientId, type: request.event, at, actor: request.actor, data: request.data },
    );
    const changed = { ...request.set, ...(request.to === undefined ? {} : { status: request.to }), updatedAt: at };
    // Becoming active (approval, reinstatement) restarts the dormancy clock; every change re-arms the sweep's index.
    // It also starts a new recertification period (the last attestation is kept as evidence).
    if (request.to === 'active') {
      const dueAt = nextRecertificationDueAt(new Date(at), changed.risk ?? consumer.risk, services.policy.document.lifecycle);
      const last = consumer.recertification?.last;
      Object.assign(changed, { activatedAt: at, ...(dueAt ? { recertification: { dueAt, ...(last ? { last } : {}) } } : {}) });
    }
    const set = { ...changed, attentionAt: attentionAt({ ...consumer, ...changed }, services.policy.document.lifecycle) };
    // Tokens already issued stay valid by signature until they expire: resource servers learn of the end from the list.
    const endsAccess = request.to !== undefined && ACCESS_ENDING_STATUSES.includes(request.to);
    try {
      await services.consumers.updateConsumer(
        {
          clientId: consumer.clientId,
          expect: { statuses: [consumer.status], auditSeq: consumer.auditSeq },
          set,
          audit,
          ...(request.releaseIdempotency ? { releaseIdempotency: request.releaseIdempotency } : {}),
          ...(request.request ? { request: request.request } : {}),
          ...(endsAccess
            ? { revocation: consumerRevocation(consumer.clientId, request.to!, new Date(at), services.config, services.policy) }
            : request.revocation
              ? { revocation: request.revocation }
              : {}),
        },
        request.idempotency,
      );
      if (endsAccess || request.revocation) forgetConsumerEverywhere(consumer.clientId);
      return { consumer: { ...consumer, ...set, auditSeq: audit.seq, auditHead: audit.hash }, applied: true };
    } catch (error) {
      // Only a lost race on the consumer record is worth re-reading; any other failed condition is final.
      const lostRace = error instanceof RegistryError && error.code === 'condition_failed' && (error.item === 'consumer' || error.item === undefined);
      if (!lostRace || attempt >= ATTEMPTS) throw error;
      snapshot = undefined;
    }
  }
}
