import type { Consumer } from '../consumer/consumer.js';

/** A page of consumers due for a sweep's attention, in order of when they became due. */
export interface DuePage {
  readonly consumers: readonly Consumer[];
  /** Opaque position to continue from; absent on the last page. */
  readonly next?: string | undefined;
}

/**
 * The sparse `attention` index: consumers keyed by the next time a sweep must look at them. A sweep's reads grow with
 * the consumers that are due, not with the table.
 */
export interface AttentionIndex {
  /** Consumers whose attention time is at or before `now`, `limit` at a time (eventually consistent). */
  listDue(now: Date, limit: number, next?: string): Promise<DuePage>;
  /**
   * Moves a consumer's attention time without any other change (a due consumer that needs nothing yet, e.g. it was used
   * since). Conditional on the audit position, so it never overwrites a concurrent change; false when that moved.
   * `requestCheck` also moves the consumer's `requestCheckAt` (removed when undefined): the sweep's check of its change
   * requests found nothing to close, or only requests too young to judge.
   */
  rearm(
    clientId: string,
    attentionAt: string | undefined,
    expectAuditSeq: number,
    requestCheck?: { readonly requestCheckAt: string | undefined },
  ): Promise<boolean>;
}
