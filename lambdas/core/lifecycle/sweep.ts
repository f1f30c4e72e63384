import type { Actor } from '../audit/event.js';
import { unusedScopes, type Consumer } from '../consumer/consumer.js';
import { applyTransition, type TransitionRequest } from '../consumer/transition.js';
import { reassess } from '../policy/reassess.js';
import type { AttentionIndex, PolicyRolloutStore } from '../ports.js';
import { awaitsWorkflow, settleStalledRequests } from '../requests/open-request.js';
import type { Needs } from '../services.js';
import { attentionAt, deadlines, type Deadline } from './attention.js';
import { reevaluate, rolloutPolicy, type RolloutResult } from './drift.js';
import { notify, reasonLines } from './notify.js';
import { attestationLinkKeysFor } from '../recertification/link.js';
import { sendAttestationLinks, suspendOverdue } from '../recertification/sweep-actions.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';

/** What revoking a consumer touches: its record, its exception, its client secret and its contacts. */
export type RevokeServices = Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'clientSecrets' | 'mailer'>;

/** What a sweep touches besides the attention index and the rollout record (given apart). */
export type SweepServices = Needs<
  'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests' | 'listConsumers',
  'clientSecrets' | 'mailer' | 'linkMailer' | 'workflow' | 'vault'
>;

const SWEEPER: Actor = { kind: 'system', id: 'lifecycle-sweep' };

export interface SweepOptions {
  /** Consumers read per index page. @default 100 */
  readonly pageSize?: number;
  /** Milliseconds left before the sweep must stop (Lambda's getRemainingTimeInMillis); it stops with this much to spare. */
  readonly remainingMs?: () => number;
  /** @default 10 000 ms */
  readonly stopMarginMs?: number;
  /** Where the policy rollout keeps its place; without it, consumers are not re-evaluated after a policy change. */
  readonly rollout?: PolicyRolloutStore | undefined;
  /** The keys that sign attestation links (created once per process); without them, one cache per run. */
  readonly attestationKeys?: SigningKeyCache | undefined;
}

export interface SweepResult {
  /** Consumers read from the attention index (the sweep's reads, besides re-reads after a lost race). */
  readonly read: number;
  readonly revoked: number;
  readonly suspended: number;
  readonly warned: number;
  /** Consumers whose recertification fell due: their contacts were sent attestation links. */
  readonly recertificationsDue: number;
  /** Consumers suspended because nobody attested their recertification in time (counted in `suspended` too). */
  readonly recertificationsOverdue: number;
  /** Exceptions that ended (the consumer was re-evaluated; a suspension it caused counts in `suspended` too). */
  readonly exceptionsEnded: number;
  /** Requests whose review workflow had not been started (a double failure at registration) and now is. */
  readonly reviewsResumed: number;
  /** Change requests closed as failed because their review workflow never started (see `requestCheckAt`). */
  readonly requestsFailed: number;
  /** Due consumers that needed nothing yet (used since, or a concurrent sweep handled them): their attention time moved. */
  readonly rearmed: number;
  /** Consumers whose handling failed; they stay due and the next run retries them. */
  readonly failed: number;
  /** Re-evaluation after a policy change (absent when the sweep has no rollout store). */
  readonly rollout?: RolloutResult | undefined;
  /** False when the sweep stopped near its deadline with work left; the next run continues. */
  readonly complete: boolean;
}

type Outcome =
  | 'revoked'
  | 'suspended'
  | 'warned'
  | 'recertificationsDue'
  | 'recertificationSuspended'
  | 'rearmed'
  | 'exceptionsEnded'
  | 'exceptionSuspended'
  | 'reviewsResumed'
  | 'none';

/**
 * One lifecycle sweep: reads only consumers whose attention time has come, and for each one revokes a grant that has
 * ended, ends an exception that ran out (suspending the consumer if that leaves it out of policy), suspends a consumer
 * whose policy-drift grace period is over or that is dormant, or warns the contacts ahead of any of these. Then, if the
 * deployed policy version changed, it re-evaluates consumers against it. Every change goes through the conditional,
 * audited transition, so two sweeps at once change each consumer once and send each email once.
 */
export async function sweep(services: SweepServices, index: AttentionIndex, options: SweepOptions = {}): Promise<SweepResult> {
  const counts = {
    read: 0,
    revoked: 0,
    suspended: 0,
    warned: 0,
    recertificationsDue: 0,
    recertificationsOverdue: 0,
    exceptionsEnded: 0,
    reviewsResumed: 0,
    requestsFailed: 0,
    rearmed: 0,
    failed: 0,
  };
  const margin = options.stopMarginMs ?? 10_000;
  const timeLeft = () => !options.remainingMs || options.remainingMs() >= margin;
  const now = services.clock.now();
  const keys = options.attestationKeys ?? attestationLinkKeysFor(services);
  let next: string | undefined;
  do {
    if (!timeLeft()) return { ...counts, complete: false };
    const page = await index.listDue(now, options.pageSize ?? 100, next);
    counts.read += page.consumers.length;
    for (const consumer of page.consumers) {
      if (!timeLeft()) return { ...counts, complete: false };
      try {
        const outcome = await handleDue(services, index, consumer, now, keys);
        if (outcome === 'exceptionSuspended') {
          counts.exceptionsEnded++;
          counts.suspended++;
        } else if (outcome === 'recertificationSuspended') {
          counts.recertificationsOverdue++;
          counts.suspended++;
        } else if (typeof outcome === 'number') {
          // The request check: requests it closed, or a consumer that needed nothing yet.
          if (outcome > 0) counts.requestsFailed += outcome;
          else counts.rearmed++;
        } else if (outcome !== 'none') counts[outcome]++;
      } catch (error) {
        counts.failed++;
        services.log.error('sweep could not handle a consumer', {
          clientId: consumer.clientId,
          error: (error as Error).name,
          message: (error as Error).message,
        });
      }
    }
    next = page.next;
  } while (next !== undefined);
  if (!options.rollout) return { ...counts, complete: true };
  const rollout = await rolloutPolicy(services, options.rollout, index, { timeLeft, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  return { ...counts, suspended: counts.suspended + rollout.suspended, rollout, complete: rollout.complete };
}

/** What one due consumer needed: an outcome, or (the request check) how many change requests it closed. */
async function handleDue(services: SweepServices, index: AttentionIndex, consumer: Consumer, now: Date, keys: SigningKeyCache): Promise<Outcome | number> {
  const lifecycle = services.policy.document.lifecycle;
  const t = now.getTime();
  const due = deadlines(consumer, lifecycle).sort((a, b) => a.at - b.at);
  const reached = (kind: Deadline['kind']) => due.find((d) => d.kind === kind && d.at <= t);
  if (reached('stalled')) return (await resumeReview(services, consumer)) ? 'reviewsResumed' : 'rearmed';
  const expiry = reached('expiry');
  if (expiry) return (await revoke(services, consumer, 'grant_expired', `The grant ended on ${new Date(expiry.at).toISOString()}.`)) ? 'revoked' : 'rearmed';
  const exception = reached('exception');
  if (exception) {
    const ended = await endException(services, consumer, exception.exceptionId!, 'expired');
    return ended === 'suspended' ? 'exceptionSuspended' : ended === 'ended' ? 'exceptionsEnded' : 'rearmed';
  }
  if (reached('drift')) {
    const outcome = await reevaluate(services, consumer);
    return outcome === 'suspended' ? 'suspended' : outcome === 'unchanged' ? 'rearmed' : 'none';
  }
  if (reached('dormancy')) {
    const since = consumer.lastUsedAt ?? consumer.activatedAt ?? consumer.createdAt;
    return (await suspendDormant(services, consumer, since)) ? 'suspended' : 'rearmed';
  }
  // The links go out before any suspension for the same due date, so an owner always had a link to answer.
  if (reached('recertification')) return (await sendAttestationLinks(services, keys, consumer)) ? 'recertificationsDue' : 'rearmed';
  if (reached('recertification_overdue')) return (await suspendOverdue(services, consumer)) ? 'recertificationSuspended' : 'rearmed';
  // After the lifecycle actions, so a request check never delays a revocation or suspension that is due as well.
  if (reached('requests')) return checkRequests(services, index, consumer);
  const warn = due.find((d) => d.warnAt !== undefined && d.warnAt <= t && !consumer.warningsSent?.includes(d.warningKey));
  if (warn && lifecycle.warningDays > 0) return (await warnContacts(services, consumer, warn)) ? 'warned' : 'rearmed';
  // Nothing to do yet: the index was stale (the consumer was used since, or another sweep moved it on).
  const at = attentionAt(consumer, lifecycle);
  if (at !== consumer.attentionAt) await index.rearm(consumer.clientId, at, consumer.auditSeq);
  return 'rearmed';
}

/**
 * Ends one of a consumer's exceptions (it expired, or its consumer was revoked) and re-evaluates the consumer without
 * it: an active consumer the exception kept in policy is suspended in the same transition. The exception's request is
 * closed in the same transaction.
 */
export async function endException(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'mailer'>,
  consumer: Consumer,
  exceptionId: string,
  reason: 'expired' | 'consumer_revoked',
  actor: Actor = SWEEPER,
): Promise<'ended' | 'suspended' | undefined> {
  const exception = consumer.exceptions?.find((e) => e.exceptionId === exceptionId);
  if (!exception) return undefined;
  const now = services.clock.now();
  const remaining = (consumer.exceptions ?? []).filter((e) => e.exceptionId !== exceptionId);
  const r = reassess(services.policy, { ...consumer, exceptions: remaining }, now);
  const suspend = consumer.status === 'active' && !r.inPolicy;
  const request = await services.requests.getRequest(consumer.clientId, exceptionId);
  const detail = reason === 'expired' ? `The exception ended on ${exception.expiresAt}.` : 'The consumer was revoked.';
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: suspend ? 'suspended' : undefined,
      event: 'exception.ended',
      actor,
      data: { exceptionId, rule: exception.rule, reason, outcome: suspend ? 'suspended' : 'unchanged', reasons: r.reasons.map((x) => x.code) },
      set: {
        exceptions: remaining.length > 0 ? remaining : undefined,
        ...(suspend
          ? { outOfPolicy: { policyVersion: services.policy.version, reasons: r.reasons, since: now.toISOString(), suspendAt: now.toISOString() } }
          : {}),
      },
      ...(request?.status === 'active'
        ? {
            request: {
              requestId: exceptionId,
              expect: { statuses: ['active'], version: request.version },
              set: { status: 'ended', outcomeReason: detail, updatedAt: now.toISOString() },
            },
          }
        : {}),
      unless: (c) => !(c.exceptions ?? []).some((e) => e.exceptionId === exceptionId),
    },
    consumer,
  );
  if (!applied) return undefined;
  if (reason !== 'expired') return 'ended';
  await notify(services, consumer, {
    subject: `[Gatehouse] ${consumer.clientName}: exception ended${suspend ? ', access suspended' : ''}`,
    text: suspend
      ? `The ${exception.rule} exception of ${consumer.clientName} (${consumer.clientId}) ended on ${exception.expiresAt}, and without it the consumer does not meet the policy:\n${reasonLines(r.reasons)}\nAccess is suspended; reinstatement needs a review once it meets the policy.`
      : `The ${exception.rule} exception of ${consumer.clientName} (${consumer.clientId}) ended on ${exception.expiresAt}; the policy's own requirement applies again.`,
  });
  return suspend ? 'suspended' : 'ended';
}

/**
 * The check armed when a change request was opened (`requestCheckAt`): closes as failed the requests that have waited past
 * STALLED_REVIEW_MS without a review workflow, then moves the check on to the oldest request still too young to judge, or
 * removes it. Returns how many requests it closed.
 */
async function checkRequests(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests'>,
  index: AttentionIndex,
  consumer: Consumer,
): Promise<number> {
  const { requests, closed } = await settleStalledRequests(services, consumer.clientId);
  const next = requests
    .filter(awaitsWorkflow)
    .map((r) => r.createdAt)
    .sort()[0];
  // A fresh read: the index's copy is eventually consistent, and closing a request appended to the consumer's chain.
  const current = await services.consumers.getConsumer(consumer.clientId);
  if (current) {
    const settled = { ...current, requestCheckAt: next };
    // Conditional on the consumer as read; if it changes meanwhile, the next sweep checks again.
    await index.rearm(current.clientId, attentionAt(settled, services.policy.document.lifecycle), current.auditSeq, { requestCheckAt: next });
  }
  return closed;
}

/**
 * Starts the review workflow of a request that has none: registration stored it but could neither start the workflow nor
 * record that it failed. Starting is idempotent (the execution is named after the consumer), so a workflow that did start
 * but was not recorded is found, not duplicated.
 */
async function resumeReview(services: Needs<'getConsumer' | 'updateConsumer', 'workflow'>, consumer: Consumer): Promise<boolean> {
  const execution = await services.workflow.startReview({
    clientId: consumer.clientId,
    requestId: null,
    risk: consumer.risk,
    approvals: consumer.requirements.approvals,
    reviewSlaSeconds: consumer.requirements.reviewSlaHours * 3600,
  });
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'consumer.review_started',
      actor: SWEEPER,
      data: { execution, approvalsRequired: consumer.requirements.approvals, resumed: true },
      set: { reviewExecution: execution },
      unless: (c) => c.status !== 'pending_review' || c.reviewExecution !== undefined,
    },
    consumer,
  );
  return applied;
}

/** The used-scopes summary recorded when access ends: which granted scopes were ever requested in a token. */
const scopeUsage = (consumer: Consumer) => ({ used: consumer.usedScopes ?? [], unused: unusedScopes(consumer) });

/** Revokes a consumer with its effects: no tokens from now on, its secret scheduled for deletion, its contacts told. */
export async function revoke(
  services: RevokeServices,
  consumer: Consumer,
  reason: 'grant_expired' | 'terminated' | 'out_of_policy' | 'deregistered',
  detail: string,
  actor: Actor = SWEEPER,
  extra: Pick<TransitionRequest, 'set' | 'unless'> = {},
): Promise<boolean> {
  const { consumer: after, applied } = await applyTransition(
    services,
    { clientId: consumer.clientId, to: 'revoked', event: 'consumer.revoked', actor, data: { reason, detail, scopeUsage: scopeUsage(consumer) }, ...extra },
    consumer,
  );
  if (!applied) return false;
  await afterRevocation(services, after, reason, detail);
  // Its exceptions end with it, so none is listed as in force for a revoked consumer.
  let current = after;
  for (const e of after.exceptions ?? []) {
    await endException(services, current, e.exceptionId, 'consumer_revoked', actor).catch((error: unknown) =>
      services.log.error('exception of a revoked consumer not closed', { clientId: after.clientId, exceptionId: e.exceptionId, error: (error as Error).name }),
    );
    current = (await services.consumers.getConsumer(after.clientId)) ?? current;
  }
  return true;
}

async function afterRevocation(services: Needs<never, 'clientSecrets' | 'mailer'>, consumer: Consumer, reason: string, detail: string): Promise<void> {
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

async function suspendDormant(services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>, consumer: Consumer, since: string): Promise<boolean> {
  const detail = `Not used since ${since}; the ${consumer.risk}-risk dormancy window is ${consumer.requirements.dormancyDays} days.`;
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: 'suspended',
      event: 'consumer.suspended',
      actor: SWEEPER,
      data: { reason: 'dormant', detail, scopeUsage: scopeUsage(consumer) },
    },
    consumer,
  );
  if (!applied) return false;
  await notify(services, consumer, {
    subject: `[Gatehouse] Access suspended for ${consumer.clientName}: dormant`,
    text: `Access of ${consumer.clientName} (${consumer.clientId}) was suspended because it was dormant. ${detail}\nReinstatement needs a review: ask the bank's API security team.`,
  });
  return true;
}

async function warnContacts(services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>, consumer: Consumer, deadline: Deadline): Promise<boolean> {
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
      unless: (c) =>
        c.warningsSent?.includes(deadline.warningKey) === true ||
        !deadlines(c, services.policy.document.lifecycle).some((d) => d.warningKey === deadline.warningKey),
    },
    consumer,
  );
  if (!applied) return false;
  const what = {
    expiry: `its grant ends on ${at} and it will then be revoked. To keep access, register again with a new expiry before then.`,
    dormancy: `it has not been used and will be suspended as dormant on ${at}. Any token request before then keeps it active.`,
    exception: `its exception to the access policy ends on ${at}; from then on the policy's own requirement applies, and a consumer that does not meet it is suspended.`,
    drift: `it does not meet the access policy and will be suspended on ${at}.`,
    stalled: `its request is waiting for review.`,
    requests: `a change request for it is waiting for review.`,
    recertification: `its periodic access review is due; its contacts were sent attestation links.`,
    recertification_overdue: `nobody has yet confirmed that its access is still needed, and it will be suspended on ${at}. Use the attestation link emailed to you when the review fell due; if you cannot find it, ask the bank's API security team.`,
  }[deadline.kind];
  await notify(services, consumer, {
    subject: `[Gatehouse] ${consumer.clientName}: action needed before ${at.slice(0, 10)}`,
    text: `${consumer.clientName} (${consumer.clientId}): ${what}`,
  });
  return true;
}
