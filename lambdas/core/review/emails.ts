import type { Consumer } from '../consumer/consumer.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Email } from '../ports.js';
import { escapeHtml } from './html.js';
import type { Review } from './review.js';

/** The facts of a request a reviewer needs, as label/value pairs (shared by the email and the review page). */
export function requestFacts(consumer: Consumer, policy: LoadedPolicy): Array<[string, string]> {
  const scopes = consumer.scopes.map((s) => `${s} (${policy.document.scopes[s]?.risk ?? 'unknown'} risk)`).join(', ');
  return [
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
    ['Why review', consumer.decisionReasons.map((r) => `${r.code}: ${r.message}`).join('; ')],
  ];
}

/** The email that asks one reviewer for a decision; the link is theirs alone. */
export function reviewerEmail(consumer: Consumer, review: Review, reviewer: string, link: string, policy: LoadedPolicy): Email {
  const facts = requestFacts(consumer, policy);
  const round = `approval ${review.round} of ${review.approvalsRequired}`;
  const subject = `[Gatehouse] Review needed: ${consumer.clientName} (${consumer.tier}, ${consumer.risk} risk) — ${round}`;
  const text = [
    `A request for API access needs your review (${round}).`,
    '',
    ...facts.map(([k, v]) => `${k}: ${v}`),
    '',
    `Review it here (this link is yours alone, works once, and expires ${review.deadline}):`,
    link,
    '',
    'Opening the link changes nothing; you approve or deny on the page.',
  ].join('\n');
  const rows = facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const html = `<p>A request for API access needs your review (${escapeHtml(round)}).</p><table>${rows}</table>
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

