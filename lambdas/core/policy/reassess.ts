import type { Consumer } from '../consumer/consumer.js';
import { activeExceptions } from '../exceptions/effective.js';
import { evaluate, type Decision } from './evaluate.js';
import type { LoadedPolicy } from './load.js';
import type { Reason } from './reasons.js';

/** An existing consumer measured against a (possibly newer) policy. */
export interface Reassessment {
  /** True when nothing but reasons waived by an active exception stands against the consumer. */
  readonly inPolicy: boolean;
  /** What the consumer breaks, after exceptions. */
  readonly reasons: readonly Reason[];
  /** Reasons an active exception waives (shown, not held against the consumer). */
  readonly waived: readonly Reason[];
  /** The policy's decision for the consumer's grant as if asked today, with the requirements it would now get. */
  readonly decision: Decision;
}

const distinctApprovers = (consumer: Consumer): number => new Set((consumer.approvals ?? []).map((a) => a.reviewer.trim().toLowerCase())).size;

/**
 * Re-evaluates what a consumer holds (tier, scopes, data classes, purpose, contacts, auth method and grant length) against
 * `policy`. The grant is measured from when it was made, so a grant that was within the maximum stays within it; a stricter
 * maximum, a scope moved out of the tier, a method now too weak, or more approvals needed than were given all count.
 */
export function reassess(policy: LoadedPolicy, consumer: Consumer, now: Date): Reassessment {
  const grantedAt = new Date(consumer.activatedAt ?? consumer.createdAt);
  const decision = evaluate(
    policy,
    {
      tier: consumer.tier,
      scopes: consumer.scopes,
      dataClasses: consumer.dataClasses,
      purpose: consumer.purpose,
      expiresAt: new Date(consumer.expiresAt),
      authMethod: consumer.authMethod,
      contacts: consumer.contacts,
      // The statement's scope cap was applied at registration; what is re-checked is that one was verified.
      softwareStatement: consumer.softwareId !== undefined ? {} : undefined,
    },
    // Before the grant started, expiry checks would measure from the wrong day; never later than now.
    new Date(Math.min(grantedAt.getTime(), now.getTime())),
  );
  const against: Reason[] = decision.outcome === 'deny' ? [...decision.reasons] : [];
  if (distinctApprovers(consumer) < decision.requirements.approvals) {
    against.push({
      code: 'approvals_insufficient',
      subject: String(decision.requirements.approvals),
      message: `${decision.risk} risk now needs ${decision.requirements.approvals} approval(s); ${distinctApprovers(consumer)} recorded.`,
    });
  }
  const exceptions = activeExceptions(consumer, now);
  const isWaived = (r: Reason): boolean =>
    r.code === 'auth_method_too_weak' && exceptions.some((e) => e.rule === 'auth_method' && e.value === consumer.authMethod);
  const waived = against.filter(isWaived);
  const reasons = against.filter((r) => !isWaived(r));
  return { inPolicy: reasons.length === 0, reasons, waived, decision };
}
