import type { ConsumerStatus } from './consumer.js';

/** Allowed status transitions; anything else is a bug or a race and is refused. */
const TRANSITIONS: Readonly<Record<ConsumerStatus, readonly ConsumerStatus[]>> = {
  pending_review: ['active', 'denied', 'expired', 'failed', 'withdrawn'],
  active: ['suspended', 'revoked'],
  suspended: ['active', 'revoked'],
  denied: [],
  expired: [],
  failed: [],
  withdrawn: [],
  revoked: [],
};

/** Whether a consumer's registration has ended for good (withdrawn, denied, expired, failed, revoked): nothing moves it again. */
export function hasEnded(status: ConsumerStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Statuses a consumer may be created in. */
export const INITIAL_STATUSES: readonly ConsumerStatus[] = ['active', 'pending_review'];

/** Whether a consumer may move from one status to another. */
export function canTransition(from: ConsumerStatus, to: ConsumerStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses from which `to` can be reached. */
export function sourcesOf(to: ConsumerStatus): ConsumerStatus[] {
  return (Object.keys(TRANSITIONS) as ConsumerStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

/** Only an active consumer may obtain tokens. */
export function mayObtainTokens(status: ConsumerStatus): boolean {
  return status === 'active';
}
