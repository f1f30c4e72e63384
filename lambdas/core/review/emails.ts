import type { Consumer } from '../consumer/consumer.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Email } from '../ports.js';
import { escapeHtml } from './html.js';
import { describeRequest, type ChangeRequest } from '../requests/change-request.js';
import type { Review } from './review.js';

/** The facts of a request a reviewer needs, as label/value pairs (shared by the email and the review page). */
export function requestFacts(consumer: Consumer, policy: LoadedPolicy, request?: ChangeRequest): Array<[string, string]> {
  const scopes = consumer.scopes.map((s) => `${s} (${policy.document.scopes[s]?.risk ?? 'unknown'} risk)`).join(', ');
  const change: Array<[string, string]> = request
    ? [
        ['Request', `${describeRequest(request)} (${request.requestId})`],
        ['Justification', request.justification],
        ['Requested by', request.requestedBy],
        ['Consumer status', consumer.status],
        ...(consumer.outOfPolicy ? ([['Out of policy', consumer.outOfPolicy.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')]] as Array<[string, string]>) : []),
      ]
    : [];
  return [
    ...change,
    ['Consumer', `${consumer.clientName} (${consumer.clientId})`],
    ['Tier', consumer.tier],
    ['Risk', consumer.risk],
    ['Scopes', scopes],
    ['Purpose', consumer.purpose],
    ['Data classes', consumer.dataClasses.join(', ')],
    ['Requested expiry', consumer.expiresAt],
    ['Contacts', consumer.contacts.join(', ')],
    ['Software id', consumer.softwareId ?? '—'],
    ['Policy', consumer.policyVersion],
    ...(request ? [] : ([['Why review', consumer.decisionReasons.map((r) => `${r.code}: ${r.message}`).join('; ')]] as Array<[string, string]>)),
  ];
}

/** The email that asks one reviewer for a decision; the link is theirs alone. */
export function reviewerEmail(consumer: Consumer, review: Review, reviewer: string, link: string, policy: LoadedPolicy, request?: ChangeRequest): Email {
  const facts = requestFacts(consumer, policy, request);
  const round = `approval ${review.round} of ${review.approvalsRequired}`;
  const what = request ? (request.type === 'exception' ? 'policy exception' : 'reinstatement') : 'new consumer';
  const subject = `[Gatehouse] Review needed: ${request ? `${what} for ` : ''}${consumer.clientName} (${consumer.tier}, ${consumer.risk} risk) — ${round}`;
  const intro = request ? `A ${what} for an API consumer needs your review (${round}).` : `A request for API access needs your review (${round}).`;
  const text = [
    intro,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    `Review it here (this link is yours alone, works once, and expires ${review.deadline}):`,
    link,
    '',
    'Opening the link changes nothing; you approve or deny on the page.',
  ].join('\n');
  const rows = facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const html = `<p>${escapeHtml(intro)}</p><table>${rows}</table>
<p><a href="${escapeHtml(link)}">Open the review</a> — this link is yours alone, works once, and expires ${escapeHtml(review.deadline)}.</p>
<p>Opening the link changes nothing; you approve or deny on the page.</p>`;
  return { to: [reviewer], subject, text, html };
}

const OUTCOME_TEXT: Partial<Record<Consumer['status'], string>> = {
  active: 'was approved. The consumer is active: request tokens at the token endpoint with your registered keys.',
  denied: 'was denied.',
  expired: 'expired: no decision was made within the review period. You may submit a new request.',
  failed: 'could not be completed because of a technical problem. Nothing was approved; please submit it again.',
};

/** The notice to the requester's contacts when a review ends. */
export function outcomeEmail(consumer: Consumer, registrationUri: string): Email | undefined {
  const outcome = OUTCOME_TEXT[consumer.status];
  if (!outcome) return undefined;
  const reason = consumer.outcomeReason ? `Reason: ${consumer.outcomeReason}` : '';
  const subject = `[Gatehouse] Your request for ${consumer.clientName} ${consumer.status === 'active' ? 'was approved' : `is ${consumer.status}`}`;
  const text = [`Your API access request for ${consumer.clientName} (${consumer.clientId}) ${outcome}`, reason, '', `Status: ${registrationUri}`].filter((l, i) => l !== '' || i !== 1).join('\n');
  const html = `<p>Your API access request for <strong>${escapeHtml(consumer.clientName)}</strong> (${escapeHtml(consumer.clientId)}) ${escapeHtml(outcome)}</p>${
    reason ? `<p>${escapeHtml(reason)}</p>` : ''
  }<p>Status: ${escapeHtml(registrationUri)}</p>`;
  return { to: consumer.contacts, subject, text, html };
}


/** The notice to a consumer's contacts when a review of one of its change requests ends. */
export function requestOutcomeEmail(consumer: Consumer, request: ChangeRequest): Email | undefined {
  const what = describeRequest(request);
  const outcome: Partial<Record<ChangeRequest['status'], string>> = {
    active: `was approved and is in force until ${request.expiresAt}.`,
    approved: 'was approved: the consumer is active again.',
    denied: `was denied.${request.outcomeReason ? ` Reason: ${request.outcomeReason}` : ''}`,
    expired: 'expired: no decision was made within the review period.',
    failed: 'could not be completed because of a technical problem; nothing changed.',
  };
  const text = outcome[request.status];
  if (!text || consumer.contacts.length === 0) return undefined;
  return {
    to: consumer.contacts,
    subject: `[Gatehouse] ${consumer.clientName}: ${request.type} ${request.status === 'active' ? 'approved' : request.status}`,
    text: `For ${consumer.clientName} (${consumer.clientId}), the request "${what}" (${request.requestId}) ${text}`,
  };
}
