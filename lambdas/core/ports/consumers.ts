import type { AuditEvent } from '../audit/event.js';
import type { Consumer, ConsumerStatus } from '../consumer/consumer.js';
import type { RequestWrite } from '../requests/change-request.js';
import type { IdempotencyRecord } from './markers.js';
import type { RevokedConsumer } from '../revocation/revocation-list.js';

/** A change of a consumer, written atomically with its audit event. */
export interface ConsumerChange {
  readonly clientId: string;
  /** The change applies only while the consumer is in one of these statuses and at this audit position. */
  readonly expect: { readonly statuses: readonly ConsumerStatus[]; readonly auditSeq: number };
  readonly set: Partial<Omit<Consumer, 'clientId' | 'auditSeq' | 'auditHead'>>;
  readonly audit: AuditEvent;
  /** keyHash of an idempotency record to delete in the same transaction. */
  readonly releaseIdempotency?: string;
  /** A change request of this consumer created or updated in the same transaction. */
  readonly request?: RequestWrite | undefined;
  /** Lists the consumer in the revocation list in the same transaction (its access ends with this change). */
  readonly revocation?: RevokedConsumer | undefined;
}

/** Consumers and their hash-chained audit trail: every change of a consumer is written with its audit event. */
export interface ConsumerStore {
  /** Creates a consumer with its first audit events (and an idempotency record) in one transaction. */
  createConsumer(consumer: Consumer, audit: readonly AuditEvent[], idempotency?: IdempotencyRecord): Promise<void>;
  getConsumer(clientId: string): Promise<Consumer | undefined>;
  /** Applies a change and appends its audit event (and an idempotency record) in one transaction; RegistryError if the expectation fails. */
  updateConsumer(change: ConsumerChange, idempotency?: IdempotencyRecord): Promise<void>;
  listAudit(clientId: string): Promise<AuditEvent[]>;
  /** Every consumer, `limit` at a time (an operator's listing; not for request paths). */
  listConsumers(limit: number, next?: string): Promise<{ readonly consumers: readonly Consumer[]; readonly next?: string | undefined }>;
  /** Adds scopes to those the consumer has requested in tokens (called only when a token asks for one not yet recorded). */
  recordScopes(clientId: string, scopes: readonly string[]): Promise<void>;
  /** Records use for dormancy tracking, at most once per `minIntervalMs`. */
  recordUse(clientId: string, at: Date, minIntervalMs: number): Promise<void>;
}
