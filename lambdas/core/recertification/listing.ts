import type { Consumer } from '../consumer/consumer.js';
import type { Needs } from '../services.js';
import { recertificationDueAt, recertificationSuspendAt } from './due.js';

const DAY_MS = 86_400_000;

/**
 * Where a consumer stands: `upcoming` (due within the window asked for), `due` (links sent, not yet attested),
 * `awaiting_reviewer` (a high-risk attestation waits for a bank reviewer), `overdue` (past its suspension time; the next
 * sweep suspends it), `suspended` (suspended for being overdue or because reviewers denied its attestation, and not
 * reinstated).
 */
export type RecertificationState = 'upcoming' | 'due' | 'awaiting_reviewer' | 'overdue' | 'suspended';

export interface RecertificationEntry {
  readonly clientId: string;
  readonly clientName: string;
  readonly risk: Consumer['risk'];
  readonly status: Consumer['status'];
  readonly state: RecertificationState;
  readonly dueAt: string;
  readonly suspendAt: string;
  readonly linksSentAt?: string | undefined;
  readonly contacts: readonly string[];
  readonly last?: NonNullable<Consumer['recertification']>['last'];
}

/** One consumer's entry, or undefined when nothing is due within `withinDays`. */
export function recertificationEntry(
  consumer: Consumer,
  settings: Parameters<typeof recertificationDueAt>[1],
  now: number,
  withinDays: number,
): RecertificationEntry | undefined {
  const due = recertificationDueAt(consumer, settings);
  const suspendAt = recertificationSuspendAt(consumer, settings);
  if (due === undefined || suspendAt === undefined) return undefined;
  const r = consumer.recertification;
  let state: RecertificationState;
  if (consumer.status === 'suspended') {
    // A consumer suspended for another reason is not a recertification matter.
    if (r?.overdueSuspendedAt === undefined && r?.deniedSuspendedAt === undefined) return undefined;
    state = 'suspended';
  } else if (consumer.status !== 'active') return undefined;
  else if (r?.pending) state = 'awaiting_reviewer';
  else if (suspendAt <= now) state = 'overdue';
  else if (due <= now) state = 'due';
  else if (due <= now + withinDays * DAY_MS) state = 'upcoming';
  else return undefined;
  return {
    clientId: consumer.clientId,
    clientName: consumer.clientName,
    risk: consumer.risk,
    status: consumer.status,
    state,
    dueAt: new Date(due).toISOString(),
    suspendAt: new Date(suspendAt).toISOString(),
    ...(r?.linksSentAt ? { linksSentAt: r.linksSentAt } : {}),
    contacts: consumer.contacts,
    ...(r?.last ? { last: r.last } : {}),
  };
}

/** A page of the operators' recertification listing (what is due, awaiting a reviewer, overdue or suspended for it). */
export async function listRecertifications(
  services: Needs<'listConsumers'>,
  withinDays: number,
  page: { readonly limit: number; readonly next?: string | undefined },
): Promise<{ entries: RecertificationEntry[]; next?: string | undefined }> {
  const now = services.clock.now().getTime();
  const out = await services.consumers.listConsumers(page.limit, page.next);
  const entries = out.consumers.flatMap((c) => recertificationEntry(c, services.policy.document.lifecycle, now, withinDays) ?? []);
  return { entries, next: out.next };
}
