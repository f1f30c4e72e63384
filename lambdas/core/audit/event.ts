import { canonicalJson } from '../util/canonical-json.js';
import { sha256Hex } from '../util/hash.js';

export const AUDIT_EVENT_TYPES = [
  'consumer.requested',
  'consumer.evaluated',
  'consumer.activated',
  'consumer.review_started',
  'consumer.review_requested',
  'consumer.review_approved',
  'consumer.review_denied',
  'consumer.review_failed',
  'consumer.denied',
  'consumer.expired',
  'consumer.withdrawn',
  'consumer.suspended',
  'consumer.revoked',
  'consumer.warned',
  'consumer.reevaluated',
  'consumer.out_of_policy',
  'consumer.reinstated',
  'consumer.updated',
  'consumer.recertification_due',
  'consumer.recertified',
  'consumer.recertification_confirmed',
  'request.created',
  'request.review_started',
  'request.review_requested',
  'request.review_approved',
  'request.review_denied',
  'request.denied',
  'request.expired',
  'request.failed',
  'request.ended',
  'review.links_resent',
  'exception.granted',
  'exception.ended',
  'credentials.issued',
  'credentials.rotation_requested',
  'credentials.rotation_started',
  'credentials.rotated',
  'credentials.registration_token_rotated',
  'signing_key.rotated',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Who caused an event: the consumer itself, a reviewer, an operator, or Gatehouse. */
export interface Actor {
  readonly kind: 'consumer' | 'reviewer' | 'operator' | 'system';
  readonly id: string;
  /** Operators: the person (email) behind the principal in `id`, when Gatehouse knows who it is. */
  readonly person?: string | undefined;
}

/** One append-only audit record; `hash` covers every other field, `prevHash` links it to the one before. */
export interface AuditEvent {
  readonly clientId: string;
  readonly seq: number;
  readonly type: AuditEventType;
  readonly at: string;
  readonly actor: Actor;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** Builds the next event of a consumer's chain. */
export function chainEvent(previous: { readonly seq: number; readonly head: string }, event: Omit<AuditEvent, 'seq' | 'prevHash' | 'hash'>): AuditEvent {
  const body = { ...event, seq: previous.seq + 1, prevHash: previous.head };
  return { ...body, hash: sha256Hex(canonicalJson(body)) };
}

/**
 * Verifies a consumer's events form an unbroken chain from the genesis hash, and, given the consumer's recorded head,
 * that none were cut off the end.
 */
export function verifyChain(
  events: readonly AuditEvent[],
  recorded?: { readonly seq: number; readonly hash: string },
): { readonly ok: boolean; readonly brokenAt?: number } {
  let head = GENESIS_HASH;
  for (const [i, e] of events.entries()) {
    const { hash, ...body } = e;
    if (e.seq !== i + 1 || e.prevHash !== head || sha256Hex(canonicalJson(body)) !== hash) return { ok: false, brokenAt: e.seq };
    head = hash;
  }
  if (recorded !== undefined && (events.length !== recorded.seq || head !== recorded.hash)) {
    return { ok: false, brokenAt: Math.min(events.length, recorded.seq) + 1 };
  }
  return { ok: true };
}
