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
 * When an unattested consumer is suspended (`recertification_overdue`): the grace period after its due date, or, while a
 * high-risk attestation waits for a bank reviewer, not before that review's deadline.
 */
export function recertificationSuspendAt(
  consumer: Pick<Consumer, 'recertification' | 'activatedAt' | 'createdAt' | 'risk'>,
  settings: RecertificationSettings,
): number | undefined {
  const due = recertificationDueAt(consumer, settings);
  if (due === undefined) return undefined;
  const graceEnd = due + (settings.recertificationGraceDays ?? 0) * DAY_MS;
  const pending = consumer.recertification?.pending;
  return pending ? Math.max(graceEnd, Date.parse(pending.until)) : graceEnd;
}

/** Whether the attestation links for the consumer's current due date have gone out. */
export function linksSent(consumer: Pick<Consumer, 'recertification'>): boolean {
  return consumer.recertification?.linksSentAt !== undefined;
}
