import type { AuditEvent } from '../audit/event.js';
import { unusedScopes, type Consumer } from '../consumer/consumer.js';
import type { Needs } from '../services.js';
import type { ChangeRequest } from '../requests/change-request.js';
import { consumerWithAudit } from './consumers.js';
import { requestView } from './requests.js';
import { recertificationDueAt, recertificationSuspendAt } from '../recertification/due.js';

/** One control a consumer's record gives evidence for, with the audit events that show it. */
export interface ControlEvidence {
  readonly framework: 'OWASP NHI Top 10 (2025)' | 'NIST CSF 2.0';
  readonly id: string;
  readonly title: string;
  /** `met`: the record shows the control working; `attention`: something for a reviewer to look at. */
  readonly status: 'met' | 'attention';
  readonly finding: string;
  /** Sequence numbers of the audit events that show it. */
  readonly events: readonly number[];
}

const seqs = (events: readonly AuditEvent[], ...types: string[]) => events.filter((e) => types.includes(e.type)).map((e) => e.seq);

/**
 * A consumer's audit evidence: what it is for, who approved it, what it may do and what happened to it, with the hash
 * chain verified against the head the consumer record carries, mapped to OWASP NHI Top 10 and NIST CSF 2.0 PR.AA.
 */
export async function consumerEvidence(services: Needs<'getConsumer' | 'listAudit' | 'listRequests'>, clientId: string): Promise<Record<string, unknown>> {
  const { consumer, events, chain } = await consumerWithAudit(services, clientId);
  const now = services.clock.now();
  const unused = unusedScopes(consumer);
  const exceptions = (await services.requests.listRequests(clientId)).filter((r) => r.type === 'exception');
  const controls = mapControls(consumer, events, unused, now, exceptions);
  return {
    client_id: consumer.clientId,
    generated_at: now.toISOString(),
    chain: { verified: chain.ok, events: events.length, head: consumer.auditHead, ...(chain.brokenAt ? { broken_at: chain.brokenAt } : {}) },
    binding: {
      tier: consumer.tier,
      purpose: consumer.purpose,
      data_classes: consumer.dataClasses,
      scopes: consumer.scopes,
      expires_at: consumer.expiresAt,
      risk: consumer.risk,
      policy_version: consumer.policyVersion,
      decision_reasons: consumer.decisionReasons.map((r) => r.code),
    },
    status: consumer.status,
    approvals: (consumer.approvals ?? []).map((a) => ({ ...a })),
    exceptions: exceptions.map(requestView),
    ...(consumer.outOfPolicy ? { out_of_policy: consumer.outOfPolicy } : {}),
    scope_usage: { used: consumer.usedScopes ?? [], granted_unused: unused },
    recertification: recertificationEvidence(consumer, services.policy.document.lifecycle),
    controls,
    events,
  };
}

function mapControls(
  consumer: Consumer,
  events: readonly AuditEvent[],
  unused: readonly string[],
  now: Date,
  exceptions: readonly ChangeRequest[],
): ControlEvidence[] {
  const inForce = exceptions.filter((e) => e.status === 'active');
  const deviations =
    inForce.length === 0
      ? ' No exception to the policy is in force.'
      : ` Exceptions in force, each reviewed and time-boxed: ${inForce.map((e) => `${e.grant!.rule} until ${e.expiresAt} (${e.approvals.map((a) => a.reviewer).join(', ')})`).join('; ')}.`;
  const final =
    consumer.status === 'revoked' ||
    consumer.status === 'denied' ||
    consumer.status === 'expired' ||
    consumer.status === 'failed' ||
    consumer.status === 'withdrawn';
  const pastExpiry = Date.parse(consumer.expiresAt) <= now.getTime();
  const secret = consumer.authMethod !== 'private_key_jwt';
  const rotated = seqs(events, 'credentials.rotated');
  const approvals = consumer.approvals ?? [];
  const approvers = new Set(approvals.map((a) => a.reviewer));
  return [
    {
      framework: 'OWASP NHI Top 10 (2025)',
      id: 'NHI1',
      title: 'Improper Offboarding',
      status: pastExpiry && !final ? 'attention' : 'met',
      finding: final
        ? `Offboarded: ${consumer.status}.`
        : `Grant ends ${consumer.expiresAt}; the sweep revokes it then, and suspends it after ${consumer.requirements.dormancyDays} days unused.`,
      events: seqs(events, 'consumer.suspended', 'consumer.revoked', 'consumer.warned'),
    },
    {
      framework: 'OWASP NHI Top 10 (2025)',
      id: 'NHI5',
      title: 'Overprivileged NHI',
      status: unused.length > 0 && consumer.status === 'active' ? 'attention' : 'met',
      finding: unused.length > 0 ? `Granted but never requested: ${unused.join(', ')}.` : 'Every granted scope has been used.',
      events: seqs(events, 'consumer.evaluated'),
    },
    {
      framework: 'OWASP NHI Top 10 (2025)',
      id: 'NHI7',
      title: 'Long-Lived Secrets',
      status: 'met',
      finding: secret
        ? `Client secret rotated every ${consumer.requirements.secretRotationDays} days (${rotated.length} rotation(s) so far); only its hash is stored.`
        : 'No shared secret: private_key_jwt, with access tokens of at most ' + `${consumer.requirements.accessTokenTtlSeconds} s.`,
      events: seqs(events, 'credentials.issued', 'credentials.rotated'),
    },
    {
      framework: 'NIST CSF 2.0',
      id: 'PR.AA-01',
      title: 'Identities and credentials for services are managed by the organization',
      status: 'met',
      finding: `Registered ${consumer.createdAt} under policy ${consumer.policyVersion}; every credential change is in the hash-chained trail.`,
      events: seqs(events, 'consumer.requested', 'credentials.issued', 'credentials.rotated', 'consumer.revoked'),
    },
    {
      framework: 'NIST CSF 2.0',
      id: 'PR.AA-05',
      title: 'Access permissions are defined in policy, managed, enforced and reviewed (least privilege, separation of duties)',
      status: (approvals.length < consumer.requirements.approvals || consumer.outOfPolicy !== undefined) && consumer.status === 'active' ? 'attention' : 'met',
      finding: `${consumer.risk} risk needs ${consumer.requirements.approvals} approval(s); ${approvals.length} recorded from ${approvers.size} distinct reviewer(s).${deviations}${
        consumer.outOfPolicy ? ` Out of policy ${consumer.outOfPolicy.policyVersion}: ${consumer.outOfPolicy.reasons.map((r) => r.code).join(', ')}.` : ''
      }`,
      events: seqs(
        events,
        'consumer.evaluated',
        'consumer.review_approved',
        'consumer.review_denied',
        'consumer.reevaluated',
        'consumer.out_of_policy',
        'exception.granted',
        'exception.ended',
        'consumer.reinstated',
        'consumer.recertified',
        'consumer.recertification_confirmed',
      ),
    },
    {
      framework: 'NIST CSF 2.0',
      id: 'PR.AA-05 (recertification)',
      title: 'Access is reviewed periodically by its owner (PCI DSS 4.0 7.2.5.1)',
      status: consumer.status === 'active' && overdue(consumer, now) ? 'attention' : 'met',
      finding: attestationFinding(consumer),
      events: seqs(events, 'consumer.recertification_due', 'consumer.recertified', 'consumer.recertification_confirmed'),
    },
  ];
}

const overdue = (consumer: Consumer, now: Date): boolean => {
  const due = consumer.recertification?.dueAt;
  return due !== undefined && Date.parse(due) <= now.getTime() && consumer.recertification?.pending === undefined;
};

function attestationFinding(consumer: Consumer): string {
  const r = consumer.recertification;
  const last = r?.last
    ? `Last attested ${r.last.at} by ${r.last.attestedBy}${r.last.scopesRemoved.length > 0 ? `, removing ${r.last.scopesRemoved.join(', ')}` : ''}${
        r.last.confirmedBy ? `, confirmed by ${r.last.confirmedBy.join(', ')}` : ''
      }.`
    : 'Not attested yet.';
  return `${last}${r ? ` Next attestation due ${r.dueAt}.` : ''}${r?.pending ? ` Attestation by ${r.pending.attestedBy} awaits a bank reviewer (${r.pending.requestId}).` : ''}`;
}

/** The recertification part of the evidence: when it is due, and the last attestation (who, when, scopes removed). */
function recertificationEvidence(consumer: Consumer, settings: Parameters<typeof recertificationDueAt>[1]): Record<string, unknown> {
  const due = recertificationDueAt(consumer, settings);
  const suspendAt = recertificationSuspendAt(consumer, settings);
  const r = consumer.recertification;
  return {
    ...(due !== undefined ? { due_at: new Date(due).toISOString() } : {}),
    ...(suspendAt !== undefined ? { suspend_at: new Date(suspendAt).toISOString() } : {}),
    ...(r?.linksSentAt ? { links_sent_at: r.linksSentAt } : {}),
    last_attestation: r?.last
      ? {
          at: r.last.at,
          attested_by: r.last.attestedBy,
          scopes_removed: r.last.scopesRemoved,
          ...(r.last.confirmedBy ? { confirmed_by: r.last.confirmedBy } : {}),
          ...(r.last.requestId ? { request_id: r.last.requestId } : {}),
        }
      : null,
    ...(r?.pending
      ? { awaiting_reviewer: { attested_by: r.pending.attestedBy, at: r.pending.at, request_id: r.pending.requestId, scopes_removed: r.pending.scopesRemoved } }
      : {}),
    ...(r?.overdueSuspendedAt ? { suspended_overdue_at: r.overdueSuspendedAt } : {}),
  };
}
