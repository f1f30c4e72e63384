import type { Consumer } from '../consumer/consumer.js';
import type { RiskLevel } from '../policy/schema.js';

const DAY_MS = 86_400_000;

/** The recertification settings of the policy's `lifecycle` section; absent: consumers are not recertified. */
export interface RecertificationSettings {
  readonly recertificationDays?: Readonly<Record<RiskLevel, number>> | undefined;
  readonly recertificationGraceDays?: number | undefined;
}

/** The due date of the attestation after one made (or an activation) at `from`, for a consumer of `risk`. */
export function nextRecertificationDueAt(from: Date, risk: RiskLevel, settings: RecertificationSettings): string | undefined {
  const days = settings.recertificationDays?.[risk];
  return days === undefined ? undefined : new Date(from.getTime() + days * DAY_MS).toISOString();
}

/**
 * When a consumer's owner must next attest its access (epoch ms): the recorded due date, or, for a consumer activated
 * before recertification existed, its risk's period from its activation (or creation). Undefined without settings.
 */
export function recertificationDueAt(
  consumer: Pick<Consumer, 'recertification' | 'activatedAt' | 'createdAt' | 'risk'>,
  settings: RecertificationSettings,
): number | undefined {
  if (consumer.recertification) return Date.parse(consumer.recertification.dueAt);
  const next = nextRecertificationDueAt(new Date(consumer.activatedAt ?? consumer.createdAt), consumer.risk, settings);
  return next === undefined ? undefined : Date.parse(next);
}

/**
 * Time left after a pending review's deadline for the workflow to record its outcome (which clears `pending`) before
 * the sweep may suspend for being overdue: Step Functions runs the outcome step at the deadline, retried for minutes.
 */
export const REVIEW_OUTCOME_MARGIN_MS = DAY_MS;

/** How often, for one due date, a review that bank reviewers let run out gives the owner a new window to attest in. */
export const MAX_REOPENINGS = 2;

/**
 * When an unattested consumer is suspended (`recertification_overdue`): the grace period after its due date; while a
 * high-risk attestation waits for bank reviewers, not before that review's deadline (and the margin its outcome step
 * needs); after such a review ended undecided, not before the new window it gave the owner.
 */
export function recertificationSuspendAt(
  consumer: Pick<Consumer, 'recertification' | 'activatedAt' | 'createdAt' | 'risk'>,
  settings: RecertificationSettings,
): number | undefined {
  const due = recertificationDueAt(consumer, settings);
  if (due === undefined) return undefined;
  const graceEnd = due + (settings.recertificationGraceDays ?? 0) * DAY_MS;
  const { pending, reopened } = consumer.recertification ?? {};
  return Math.max(graceEnd, pending ? Date.parse(pending.until) + REVIEW_OUTCOME_MARGIN_MS : graceEnd, reopened ? Date.parse(reopened.until) : graceEnd);
}

/**
 * The window a review that ended undecided at `at` gives the owner to attest again: the grace period (at least a day)
 * from then. Undefined once MAX_REOPENINGS windows were given for this due date: the consumer is then suspended as overdue.
 */
export function reopenedWindow(
  consumer: Pick<Consumer, 'recertification'>,
  settings: RecertificationSettings,
  at: Date,
  requestId: string,
): NonNullable<NonNullable<Consumer['recertification']>['reopened']> | undefined {
  const count = (consumer.recertification?.reopened?.count ?? 0) + 1;
  if (count > MAX_REOPENINGS) return undefined;
  const until = new Date(at.getTime() + Math.max(1, settings.recertificationGraceDays ?? 0) * DAY_MS).toISOString();
  return { count, at: at.toISOString(), until, requestId };
}

/** Whether the attestation links for the consumer's current due date have gone out. */
export function linksSent(consumer: Pick<Consumer, 'recertification'>): boolean {
  return consumer.recertification?.linksSentAt !== undefined;
}
