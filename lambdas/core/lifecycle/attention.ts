import type { Consumer } from '../consumer/consumer.js';
import { linksSent, recertificationDueAt, recertificationSuspendAt, type RecertificationSettings } from '../recertification/due.js';

const DAY_MS = 86_400_000;

/**
 * What a sweep may have to do for a consumer, and when: the grant ends (revoke), it is dormant (suspend), an exception
 * ends (re-evaluate), the grace period after a policy change ends (re-evaluate, suspend if still out of policy), or a
 * request waiting for review has no review workflow (`stalled`: registration could neither start one nor record the
 * failure), which the sweep starts; or a change request may be waiting for a review workflow that never started
 * (`requests`: the sweep closes such requests as failed); or the owner's periodic attestation is due (`recertification`:
 * the sweep sends the attestation links) or overdue (`recertification_overdue`: the sweep suspends the consumer).
 */
export type DueKind = 'expiry' | 'dormancy' | 'exception' | 'drift' | 'stalled' | 'requests' | 'recertification' | 'recertification_overdue';

/** How long a new request may wait for its review workflow to be recorded before a sweep starts it. */
export const STALLED_REVIEW_MS = 10 * 60_000;

export interface Deadline {
  readonly kind: DueKind;
  /** When the action is due. */
  readonly at: number;
  /** When the contacts are warned ahead of it; undefined: no warning (a policy-drift notice goes out when it is found). */
  readonly warnAt: number | undefined;
  /** The key a warning for this deadline is recorded under; a moved deadline gets a new warning. */
  readonly warningKey: string;
  /** For `exception`: which one. */
  readonly exceptionId?: string | undefined;
}

/** Lifecycle settings of the policy that the sweep applies. */
export interface LifecycleSettings extends RecertificationSettings {
  /** Days before a suspension or revocation that the contacts are warned. */
  readonly warningDays: number;
}

/** The dormancy window a consumer is held to: its risk's, or longer under a `dormancy_days` exception it holds. */
function dormancyDays(consumer: Consumer): number {
  const extended = (consumer.exceptions ?? []).flatMap((e) => (e.rule === 'dormancy_days' ? [e.value] : []));
  return Math.max(consumer.requirements.dormancyDays, ...extended);
}

/** When a consumer counts as dormant: its dormancy window after its last use (or its activation, if never used). */
export function dormancyCutoff(consumer: Consumer): number {
  const since = consumer.lastUsedAt ?? consumer.activatedAt ?? consumer.createdAt;
  return Date.parse(since) + dormancyDays(consumer) * DAY_MS;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The deadlines a consumer faces now: the grant's end (active or suspended), dormancy (active only), the end of each
 * exception it holds and the end of a policy-drift grace period (active only); the check of its change requests' workflows
 * (any status); for a registration under review, only the check that its workflow was started.
 */
export function deadlines(consumer: Consumer, settings: LifecycleSettings): Deadline[] {
  if (consumer.status === 'pending_review' && consumer.reviewExecution === undefined) {
    return [{ kind: 'stalled', at: Date.parse(consumer.createdAt) + STALLED_REVIEW_MS, warnAt: undefined, warningKey: 'stalled' }];
  }
  const requestCheck: Deadline[] = consumer.requestCheckAt
    ? [{ kind: 'requests', at: Date.parse(consumer.requestCheckAt) + STALLED_REVIEW_MS, warnAt: undefined, warningKey: 'requests' }]
    : [];
  if (consumer.status !== 'active' && consumer.status !== 'suspended') return requestCheck;
  const ahead = settings.warningDays * DAY_MS;
  const expiry = Date.parse(consumer.expiresAt);
  const list: Deadline[] = [{ kind: 'expiry', at: expiry, warnAt: expiry - ahead, warningKey: `expiry:${iso(expiry)}` }, ...requestCheck];
  for (const e of consumer.exceptions ?? []) {
    const at = Date.parse(e.expiresAt);
    // A short exception is warned about half-way through rather than on the day it is granted.
    const warnAt = Math.max(at - ahead, Date.parse(e.grantedAt) + (at - Date.parse(e.grantedAt)) / 2);
    list.push({ kind: 'exception', at, warnAt, warningKey: `exception:${e.exceptionId}`, exceptionId: e.exceptionId });
  }
  if (consumer.status === 'active') {
    const cutoff = dormancyCutoff(consumer);
    list.push({ kind: 'dormancy', at: cutoff, warnAt: cutoff - ahead, warningKey: `dormancy:${iso(cutoff)}` });
    const due = recertificationDueAt(consumer, settings);
    const suspendAt = recertificationSuspendAt(consumer, settings);
    if (due !== undefined && suspendAt !== undefined) {
      if (!linksSent(consumer)) list.push({ kind: 'recertification', at: due, warnAt: undefined, warningKey: `recertification-links:${iso(due)}` });
      // The reminder comes after the links: half-way through the grace period at the earliest. A window reopened after
      // an undecided review gets its own reminder, half-way through it.
      const reopened = consumer.recertification?.reopened;
      const from = reopened ? Date.parse(reopened.at) : due;
      const warnAt = Math.max(suspendAt - ahead, from + (suspendAt - from) / 2);
      const warningKey = `recertification:${iso(due)}${reopened ? `:${reopened.count}` : ''}`;
      list.push({ kind: 'recertification_overdue', at: suspendAt, warnAt, warningKey });
    }
    if (consumer.outOfPolicy) {
      const at = Date.parse(consumer.outOfPolicy.suspendAt);
      list.push({ kind: 'drift', at, warnAt: undefined, warningKey: `drift:${consumer.outOfPolicy.policyVersion}` });
    }
  }
  return list;
}

/**
 * The next time a sweep must look at a consumer: for each deadline, its warning time until the warning is sent, then the
 * deadline itself. Undefined when nothing lies ahead (pending, terminal statuses).
 */
export function attentionAt(consumer: Consumer, settings: LifecycleSettings): string | undefined {
  const times = deadlines(consumer, settings).map((d) =>
    d.warnAt === undefined || settings.warningDays === 0 || consumer.warningsSent?.includes(d.warningKey) ? d.at : d.warnAt,
  );
  return times.length === 0 ? undefined : iso(Math.min(...times));
}
