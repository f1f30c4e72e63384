import type { Actor } from '../audit/event.js';
import type { Consumer, OutOfPolicy } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import { reassess } from '../policy/reassess.js';
import type { AttentionIndex, PolicyRollout, PolicyRolloutStore } from '../ports.js';
import { attentionAt } from './attention.js';
import type { Needs } from '../services.js';
import { notify, reasonLines } from './notify.js';

const SWEEPER: Actor = { kind: 'system', id: 'lifecycle-sweep' };
const DAY_MS = 86_400_000;

/** What re-evaluating one consumer did. */
export type ReevaluationOutcome = 'in_policy' | 'out_of_policy' | 'suspended' | 'unchanged';

/** Whether a consumer still has to be measured against the deployed policy version. */
export function needsReevaluation(consumer: Consumer, version: string): boolean {
  if (consumer.status !== 'active' && consumer.status !== 'suspended') return false;
  return consumer.policyVersion !== version && consumer.outOfPolicy?.policyVersion !== version;
}

/**
 * Measures a consumer against the deployed policy. In policy: it takes the policy's current requirements (a shorter token
 * TTL, a new dormancy window) and any earlier out-of-policy finding is cleared. Out of policy: an active consumer is told
 * why and gets the policy's grace period (`lifecycle.driftGraceDays`) before it is suspended, and is suspended once that
 * is over. A finding carries its deadline over to a newer policy version that finds nothing new (the same reasons or
 * fewer), so redeploying never extends a grace period; a new reason gets a full one. Every outcome is one audited,
 * conditional transition.
 */
export async function reevaluate(services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>, consumer: Consumer): Promise<ReevaluationOutcome> {
  const policy = services.policy;
  const now = services.clock.now();
  const at = now.toISOString();
  const r = reassess(policy, consumer, now);
  const codes = r.reasons.map((x) => x.code);
  if (r.inPolicy) {
    const { applied } = await applyTransition(
      services,
      {
        clientId: consumer.clientId,
        to: undefined,
        event: 'consumer.reevaluated',
        actor: SWEEPER,
        data: { policyVersion: policy.version, previousPolicyVersion: consumer.policyVersion, risk: r.decision.risk, waived: r.waived.map((x) => x.code) },
        set: { policyVersion: policy.version, risk: r.decision.risk, requirements: r.decision.requirements, outOfPolicy: undefined },
        unless: (c) => c.policyVersion === policy.version && c.outOfPolicy === undefined,
      },
      consumer,
    );
    return applied ? 'in_policy' : 'unchanged';
  }

  const graceDays = policy.document.lifecycle.driftGraceDays;
  const previous = consumer.outOfPolicy;
  const carried = previous !== undefined && (previous.policyVersion === policy.version || codes.every((code) => previous.reasons.some((p) => p.code === code)));
  const finding: OutOfPolicy = {
    policyVersion: policy.version,
    reasons: r.reasons,
    since: carried ? previous.since : at,
    suspendAt: carried ? previous.suspendAt : new Date(now.getTime() + graceDays * DAY_MS).toISOString(),
  };
  const suspendNow = consumer.status === 'active' && Date.parse(finding.suspendAt) <= now.getTime();
  if (suspendNow) {
    const { applied } = await applyTransition(
      services,
      {
        clientId: consumer.clientId,
        to: 'suspended',
        event: 'consumer.suspended',
        actor: SWEEPER,
        data: { reason: 'out_of_policy', policyVersion: policy.version, reasons: codes },
        set: { policyVersion: policy.version, risk: r.decision.risk, requirements: r.decision.requirements, outOfPolicy: { ...finding, suspendAt: at } },
      },
      consumer,
    );
    if (applied) {
      await notify(services, consumer, {
        subject: `[Gatehouse] Access suspended for ${consumer.clientName}: out of policy`,
        text: `Access of ${consumer.clientName} (${consumer.clientId}) was suspended: it does not meet the bank's access policy ${policy.version}.\n${reasonLines(r.reasons)}\nReinstatement needs a review once it meets the policy again (or holds an approved exception).`,
      });
    }
    return applied ? 'suspended' : 'unchanged';
  }
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'consumer.out_of_policy',
      actor: SWEEPER,
      data: { policyVersion: policy.version, reasons: codes, suspendAt: finding.suspendAt },
      set: { outOfPolicy: finding },
      unless: (c) => c.outOfPolicy?.policyVersion === policy.version,
    },
    consumer,
  );
  if (applied && consumer.status === 'active') {
    await notify(services, consumer, {
      subject: `[Gatehouse] ${consumer.clientName}: out of policy, suspension on ${finding.suspendAt.slice(0, 10)}`,
      text: `${consumer.clientName} (${consumer.clientId}) does not meet the bank's access policy ${policy.version}:\n${reasonLines(r.reasons)}\nIt keeps working until ${finding.suspendAt}, then it is suspended unless it meets the policy or holds an approved exception.`,
    });
  }
  return applied ? 'out_of_policy' : 'unchanged';
}

export interface RolloutResult {
  /** Consumers examined by the scan this run (items read). */
  readonly read: number;
  /** Consumers whose attention time was missing or stale and was set. */
  readonly rearmed: number;
  readonly reevaluated: number;
  readonly outOfPolicy: number;
  readonly suspended: number;
  /** True when every consumer has been measured against the deployed version. */
  readonly complete: boolean;
}

/**
 * After the deployed policy version changes, re-evaluates every active or suspended consumer once, a page at a time,
 * keeping its place in the table so the next run continues where this one stopped. Runs once per policy version; when
 * the version has not changed it costs one read. Concurrent sweeps take turns through the rollout record's revision; a
 * page two sweeps both handle is harmless because each re-evaluation is a conditional transition. The same pass sets the
 * attention time of consumers that lack one (written before the index existed), so the first run after an upgrade
 * backfills the index.
 */
export async function rolloutPolicy(
  services: Needs<'getConsumer' | 'updateConsumer' | 'listConsumers', 'mailer'>,
  store: PolicyRolloutStore,
  index: AttentionIndex,
  options: { readonly pageSize?: number; readonly timeLeft?: () => boolean } = {},
): Promise<RolloutResult> {
  const counts = { read: 0, reevaluated: 0, outOfPolicy: 0, suspended: 0, rearmed: 0 };
  const version = services.policy.version;
  const stored = await store.getPolicyRollout();
  let state: PolicyRollout;
  if (!stored || stored.version !== version) {
    const revision = stored?.revision ?? 0;
    state = { version, startedAt: services.clock.now().toISOString(), complete: false, reevaluated: 0, outOfPolicy: 0, revision: revision + 1 };
    if (!(await store.savePolicyRollout(state, revision))) return { ...counts, complete: false };
    services.log.info('policy rollout started', { policyVersion: version });
  } else {
    state = stored;
  }
  while (!state.complete) {
    if (options.timeLeft && !options.timeLeft()) break;
    const page = await services.consumers.listConsumers(options.pageSize ?? 100, state.cursor);
    counts.read += page.consumers.length;
    let reevaluated = 0;
    let outOfPolicy = 0;
    for (const consumer of page.consumers) {
      try {
        if (!needsReevaluation(consumer, version)) {
          // The same pass repairs the attention index, e.g. for consumers written before it existed.
          const at = attentionAt(consumer, services.policy.document.lifecycle);
          if (at !== consumer.attentionAt && (await index.rearm(consumer.clientId, at, consumer.auditSeq))) counts.rearmed++;
          continue;
        }
        const outcome = await reevaluate(services, consumer);
        if (outcome === 'unchanged') continue;
        reevaluated++;
        if (outcome === 'out_of_policy') outOfPolicy++;
        if (outcome === 'suspended') counts.suspended++;
      } catch (error) {
        // It keeps its old version, so the next policy change, or an operator's look, finds it; the rollout goes on.
        services.log.error('policy re-evaluation failed', { clientId: consumer.clientId, error: (error as Error).name, message: (error as Error).message });
      }
    }
    counts.reevaluated += reevaluated;
    counts.outOfPolicy += outOfPolicy;
    const next: PolicyRollout = {
      ...state,
      cursor: page.next,
      complete: page.next === undefined,
      reevaluated: state.reevaluated + reevaluated,
      outOfPolicy: state.outOfPolicy + outOfPolicy,
      revision: state.revision + 1,
    };
    if (!(await store.savePolicyRollout(next, state.revision))) return { ...counts, complete: false };
    state = next;
    if (state.complete)
      services.log.info('policy rollout complete', { policyVersion: version, reevaluated: state.reevaluated, outOfPolicy: state.outOfPolicy });
  }
  return { ...counts, complete: state.complete };
}
