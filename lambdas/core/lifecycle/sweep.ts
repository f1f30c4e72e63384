import type { Actor } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import type { AttentionIndex, Email } from '../ports.js';
import type { Services } from '../services.js';
import { attentionAt, deadlines, type Deadline } from './attention.js';

const SWEEPER: Actor = { kind: 'system', id: 'lifecycle-sweep' };
const DAY_MS = 86_400_000;

export interface SweepOptions {
  /** Consumers read per index page. @default 100 */
  readonly pageSize?: number;
  /** Milliseconds left before the sweep must stop (Lambda's getRemainingTimeInMillis); it stops with this much to spare. */
  readonly remainingMs?: () => number;
  /** @default 10 000 ms */
  readonly stopMarginMs?: number;
}

export interface SweepResult {
  /** Consumers read from the attention index (the sweep's reads, besides re-reads after a lost race). */
  readonly read: number;
  readonly revoked: number;
  readonly suspended: number;
  readonly warned: number;
  /** Due consumers that needed nothing yet (used since, or a concurrent sweep handled them): their attention time moved. */
  readonly rearmed: number;
  /** Consumers whose handling failed; they stay due and the next run retries them. */
  readonly failed: number;
  /** False when the sweep stopped near its deadline with due consumers left; the next run continues. */
  readonly complete: boolean;
}

type Outcome = 'revoked' | 'suspended' | 'warned' | 'rearmed' | 'none';

/**
 * One lifecycle sweep: reads only consumers whose attention time has come, and for each one revokes a grant that has
 * ended, suspends a dormant consumer, or warns the contacts ahead of either. Every change goes through the conditional,
 * audited transition, so two sweeps at once change each consumer once and send each email once.
 */
export async function sweep(services: Services, index: AttentionIndex, options: SweepOptions = {}): Promise<SweepResult> {
  const counts = { read: 0, revoked: 0, suspended: 0, warned: 0, rearmed: 0, failed: 0 };
  const margin = options.stopMarginMs ?? 10_000;
  const now = services.clock.now();
  let next: string | undefined;
  do {
    if (options.remainingMs && options.remainingMs() < margin) return { ...counts, complete: false };
    const page = await index.listDue(now, options.pageSize ?? 100, next);
    counts.read += page.consumers.length;
    for (const consumer of page.consumers) {
      if (options.remainingMs && options.remainingMs() < margin) return { ...counts, complete: false };
      try {
        const outcome = await handleDue(services, index, consumer, now);
        if (outcome !== 'none') counts[outcome]++;
      } catch (error) {
        counts.failed++;
        services.log.error('sweep could not handle a consumer', { clientId: consumer.clientId, error: (error as Error).name, message: (error as Error).message });
      }
    }
    next = page.next;
  } while (next !== undefined);
  return { ...counts, complete: true };
}

async function handleDue(services: Services, index: AttentionIndex, consumer: Consumer, now: Date): Promise<Outcome> {
  const due = deadlines(consumer);
  const expiry = due.find((d) => d.kind === 'expiry' && d.at <= now.getTime());
  if (expiry) return (await revoke(services, consumer, 'grant_expired', `The grant ended on ${new Date(expiry.at).toISOString()}.`)) ? 'revoked' : 'rearmed';
  const dormancy = due.find((d) => d.kind === 'dormancy' && d.at <= now.getTime());
  if (dormancy) {
    const since = consumer.lastUsedAt ?? consumer.activatedAt ?? consumer.createdAt;
    return (await suspendDormant(services, consumer, since)) ? 'suspended' : 'rearmed';
  }
  const warningDays = services.policy.document.lifecycle.warningDays;
  const warn = due.find((d) => !consumer.warningsSent?.includes(d.warningKey) && d.at - warningDays * DAY_MS <= now.getTime());
  if (warn && warningDays > 0) return (await warnContacts(services, consumer, warn)) ? 'warned' : 'rearmed';
  // Nothing to do yet: the index was stale (the consumer was used since, or another sweep moved it on).
  const at = attentionAt(consumer, services.policy.document.lifecycle);
  if (at !== consumer.attentionAt) await index.rearm(consumer.clientId, at, consumer.auditSeq);
  return 'rearmed';
}

/** Revokes a consumer with its effects: no tokens from now on, its secret scheduled for deletion, its contacts told. */
export async function revoke(services: Services, consumer: Consumer, reason: 'grant_expired' | 'terminated' | 'out_of_policy', detail: string, actor: Actor = SWEEPER): Promise<boolean> {
  const { consumer: after, applied } = await applyTransition(services, { clientId: consumer.clientId, to: 'revoked', event: 'consumer.revoked', actor, data: { reason, detail } }, consumer);
  if (!applied) return false;
  await afterRevocation(services, after, reason, detail);
  return true;
}

async function afterRevocation(services: Services, consumer: Consumer, reason: string, detail: string): Promise<void> {
  if (consumer.secretHash !== undefined) {
    await services.clientSecrets.remove(consumer.clientId).catch((error: unknown) =>
      // The consumer can no longer authenticate (the registry refuses it); the orphan secret is an alarmable leftover.
      services.log.error('client secret not scheduled for deletion', { clientId: consumer.clientId, error: (error as Error).name }),
    );
  }
  await notify(services, consumer, {
    subject: `[Gatehouse] Access revoked for ${consumer.clientName}`,
    text: `Access of ${consumer.clientName} (${consumer.clientId}) was revoked (${reason.replaceAll('_', ' ')}). ${detail}\nNo new tokens are issued and tokens already issued are reported inactive. To regain access, submit a new registration.`,
  });
}

async function suspendDormant(services: Services, consumer: Consumer, since: string): Promise<boolean> {
  const detail = `Not used since ${since}; the ${consumer.risk}-risk dormancy window is ${consumer.requirements.dormancyDays} days.`;
  const { applied } = await applyTransition(
    services,
    { clientId: consumer.clientId, to: 'suspended', event: 'consumer.suspended', actor: SWEEPER, data: { reason: 'dormant', detail } },
    consumer,
  );
  if (!applied) return false;
  await notify(services, consumer, {
    subject: `[Gatehouse] Access suspended for ${consumer.clientName}: dormant`,
    text: `Access of ${consumer.clientName} (${consumer.clientId}) was suspended because it was dormant. ${detail}\nReinstatement needs a review: ask the bank's API security team.`,
  });
  return true;
}

async function warnContacts(services: Services, consumer: Consumer, deadline: Deadline): Promise<boolean> {
  const at = new Date(deadline.at).toISOString();
  const sent = [...(consumer.warningsSent ?? []), deadline.warningKey].slice(-8);
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'consumer.warned',
      actor: SWEEPER,
      data: { kind: deadline.kind, due: at },
      set: { warningsSent: sent },
      // A concurrent sweep that recorded this warning first sends it; a consumer no longer facing it needs none.
      unless: (c) => c.warningsSent?.includes(deadline.warningKey) === true || !deadlines(c).some((d) => d.warningKey === deadline.warningKey),
    },
    consumer,
  );
  if (!applied) return false;
  const what =
    deadline.kind === 'expiry'
      ? `its grant ends on ${at} and it will then be revoked. To keep access, register again with a new expiry before then.`
      : `it has not been used and will be suspended as dormant on ${at}. Any token request before then keeps it active.`;
  await notify(services, consumer, { subject: `[Gatehouse] ${consumer.clientName}: action needed before ${at.slice(0, 10)}`, text: `${consumer.clientName} (${consumer.clientId}): ${what}` });
  return true;
}

async function notify(services: Services, consumer: Consumer, message: Pick<Email, 'subject' | 'text'>): Promise<void> {
  try {
    await services.mailer.send({ to: consumer.contacts, ...message });
  } catch (error) {
    // The change stands (it is the control); a lost notice is logged for the operators, not retried into a second change.
    services.log.error('lifecycle notice not sent', { clientId: consumer.clientId, error: (error as Error).name });
  }
}
