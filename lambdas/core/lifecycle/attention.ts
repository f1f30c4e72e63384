import type { Consumer } from '../consumer/consumer.js';

const DAY_MS = 86_400_000;

/** What a sweep may have to do for a consumer, and when. */
export type DueKind = 'expiry' | 'dormancy';

export interface Deadline {
  readonly kind: DueKind;
  /** When the action is due (the grant ends; the consumer counts as dormant). */
  readonly at: number;
  /** The key a warning for this deadline is recorded under; a moved deadline gets a new warning. */
  readonly warningKey: string;
}

/** Lifecycle settings of the policy that the sweep applies. */
export interface LifecycleSettings {
  /** Days before a suspension or revocation that the contacts are warned. */
  readonly warningDays: number;
}

/** When a consumer counts as dormant: its dormancy window after its last use (or its activation, if never used). */
export function dormancyCutoff(consumer: Consumer): number {
  const since = consumer.lastUsedAt ?? consumer.activatedAt ?? consumer.createdAt;
  return Date.parse(since) + consumer.requirements.dormancyDays * DAY_MS;
}

/** The deadlines a consumer faces now: the grant's end (active or suspended) and dormancy (active only). */
export function deadlines(consumer: Consumer): Deadline[] {
  if (consumer.status !== 'active' && consumer.status !== 'suspended') return [];
  const expiry = Date.parse(consumer.expiresAt);
  const list: Deadline[] = [{ kind: 'expiry', at: expiry, warningKey: `expiry:${new Date(expiry).toISOString()}` }];
  if (consumer.status === 'active') {
    const cutoff = dormancyCutoff(consumer);
    list.push({ kind: 'dormancy', at: cutoff, warningKey: `dormancy:${new Date(cutoff).toISOString()}` });
  }
  return list;
}

/**
 * The next time a sweep must look at a consumer: for each deadline, its warning time until the warning is sent, then the
 * deadline itself. Undefined when nothing lies ahead (pending, terminal statuses).
 */
export function attentionAt(consumer: Consumer, settings: LifecycleSettings): string | undefined {
  const times = deadlines(consumer).map((d) => (consumer.warningsSent?.includes(d.warningKey) ? d.at : d.at - settings.warningDays * DAY_MS));
  return times.length === 0 ? undefined : new Date(Math.min(...times)).toISOString();
}
