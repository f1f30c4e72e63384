import type { Consumer } from '../consumer/consumer.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Email } from '../ports.js';
import { describeRequest, type ChangeRequest } from '../requests/change-request.js';
import { reviewFacts, type ReviewFacts } from './facts.js';
import { dateTimeFromNow, formatDate } from './format.js';
import { escapeHtml, factsHtml, warningsHtml, type InlineStyles } from './html.js';
import type { Review } from './review.js';

/**
 * A requester's value may span lines (`purpose`): each later line is quoted, so it can never begin a line of its own
 * that reads as a link, a fact or a heading above or beside the real ones.
 */
export function quoteContinuation(value: string): string {
  return value.replace(/\r?\n|\r|\u2028|\u2029/g, '\n    | ');
}

/** The facts of a review as plain text: one heading per section, one line per fact (a list for several). */
export function factsText(facts: ReviewFacts): string[] {
  const out: string[] = [];
  for (const w of facts.warnings) out.push(`CHECK BEFORE APPROVING: ${quoteContinuation(w)}`, '');
  for (const section of facts.sections) {
    out.push(section.heading.toUpperCase());
    for (const f of section.facts) {
      if (f.lines.length === 1) out.push(`${f.label}: ${quoteContinuation(f.lines[0]!)}`);
      else out.push(`${f.label}:`, ...f.lines.map((l) => `  - ${quoteContinuation(l)}`));
    }
    out.push('');
  }
  return out;
}

const MAIL_STYLES: InlineStyles = {
  heading: 'font-size:16px;margin:20px 0 4px',
  table: 'border-collapse:collapse;width:100%;max-width:720px',
  th: 'text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #d0d7de;color:#57606a;width:170px',
  td: 'text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #d0d7de',
  warn: 'background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px',
};

/** The email that asks one reviewer for a decision; the link is theirs alone. Times read relative to `now`. */
export function reviewerEmail(
  consumer: Consumer,
  review: Review,
  reviewer: string,
  link: string,
  policy: LoadedPolicy,
  now: Date,
  request?: ChangeRequest,
): Email {
  const facts = reviewFacts(consumer, policy, review, now, request);
  const round = `approval ${review.round} of ${review.approvalsRequired}`;
  const what = request
    ? ({ exception: 'policy exception', reinstatement: 'reinstatement', update: 'registration update', recertification: 'recertification' } as const)[
        request.type
      ]
    : 'new consumer';
  const subject = `[Gatehouse] Review needed: ${request ? `${what} for ` : ''}${consumer.clientName} (${consumer.tier}, ${consumer.risk} risk) — ${round}`;
  const from = facts.organisation ? ` from ${facts.organisation}` : '';
  const intro = request
    ? `A ${what} for an API consumer${from} needs your review (${round}).`
    : `A request for API access${from} needs your review (${round}).`;
  const deadline = dateTimeFromNow(review.deadline, now);
  const text = [
    intro,
    '',
    `Review it here (this link is yours alone, works once, and expires ${deadline}):`,
    link,
    '',
    ...factsText(facts),
    'Opening the link changes nothing; you approve or deny on the page.',
  ].join('\n');
  const html = `<p>${escapeHtml(intro)}</p>
<p style="font-size:16px"><a href="${escapeHtml(link)}"><strong>Open the review</strong></a> — this link is yours alone, works once, and expires ${escapeHtml(deadline)}.</p>
${warningsHtml(facts, MAIL_STYLES)}${factsHtml(facts, MAIL_STYLES)}
<p>Opening the link changes nothing; you approve or deny on the page.</p>`;
  return { to: [reviewer], subject, text, html };
}

const OUTCOME_TEXT: Partial<Record<Consumer['status'], (consumer: Consumer) => string>> = {
  active: (c) => `was approved. The consumer is active until ${formatDate(c.expiresAt)}: request tokens at the token endpoint with your registered keys.`,
  denied: () => 'was denied.',
  expired: () => 'expired: no decision was made within the review period. You may submit a new request.',
  failed: () => 'could not be completed because of a technical problem. Nothing was approved; please submit it again.',
};

/** The notice to the requester's contacts when a review ends. */
export function outcomeEmail(consumer: Consumer, registrationUri: string): Email | undefined {
  const outcome = OUTCOME_TEXT[consumer.status]?.(consumer);
  if (!outcome) return undefined;
  const reason = consumer.outcomeReason ? `Reason: ${consumer.outcomeReason}` : '';
  const subject = `[Gatehouse] Your request for ${consumer.clientName} ${consumer.status === 'active' ? 'was approved' : `is ${consumer.status}`}`;
  const text = [`Your API access request for ${consumer.clientName} (${consumer.clientId}) ${outcome}`, reason, '', `Status: ${registrationUri}`]
    .filter((l, i) => l !== '' || i !== 1)
    .join('\n');
  const html = `<p>Your API access request for <strong>${escapeHtml(consumer.clientName)}</strong> (${escapeHtml(consumer.clientId)}) ${escapeHtml(outcome)}</p>${
    reason ? `<p>${escapeHtml(reason)}</p>` : ''
  }<p>Status: ${escapeHtml(registrationUri)}</p>`;
  return { to: consumer.contacts, subject, text, html };
}

/** The notice to a consumer's contacts when a review of one of its change requests ends. */
export function requestOutcomeEmail(consumer: Consumer, request: ChangeRequest): Email | undefined {
  const what = describeRequest(request, formatDate);
  const outcome: Partial<Record<ChangeRequest['status'], string>> = {
    active: `was approved and is in force until ${request.expiresAt === undefined ? 'its end date' : formatDate(request.expiresAt)}.`,
    approved: 'was approved: the consumer is active again.',
    denied: `was denied.${request.outcomeReason ? ` Reason: ${request.outcomeReason}` : ''}`,
    expired: 'expired: no decision was made within the review period.',
    failed: 'could not be completed because of a technical problem; nothing changed.',
  };
  const text = (request.type === 'recertification' ? recertificationOutcome(consumer, request) : undefined) ?? outcome[request.status];
  if (!text || consumer.contacts.length === 0) return undefined;
  return {
    to: consumer.contacts,
    subject: `[Gatehouse] ${consumer.clientName}: ${request.type} ${request.status === 'active' ? 'approved' : request.status}`,
    text: `For ${consumer.clientName} (${consumer.clientId}), the request "${what}" (${request.requestId}) ${text}`,
  };
}

/** What the end of a high-risk attestation's review means for the consumer, when it is more than the request's status. */
function recertificationOutcome(consumer: Consumer, request: ChangeRequest): string | undefined {
  const r = consumer.recertification;
  if (request.status === 'approved') return `was confirmed by the bank's reviewers: the next periodic access review is due on ${formatDate(r?.dueAt ?? '')}.`;
  if (request.status === 'denied') {
    const reason = request.outcomeReason ? ` Reason: ${request.outcomeReason}` : '';
    const suspended =
      consumer.status === 'suspended' && r?.deniedSuspendedAt !== undefined
        ? ` Access of ${consumer.clientName} is suspended (recertification_denied): no new tokens are issued. Reinstatement needs a review: ask the bank's API security team.`
        : '';
    return `was declined by the bank's reviewers.${reason}${suspended}`;
  }
  if (request.status !== 'expired' && request.status !== 'failed') return undefined;
  const why = request.status === 'expired' ? "the bank's reviewers made no decision within the review period" : 'its review could not be completed';
  if (r?.reopened?.requestId === request.requestId) {
    return `ended undecided: ${why}. This is not held against ${consumer.clientName}: each contact gets a new attestation link shortly; attest again by ${formatDate(r.reopened.until)} to keep access.`;
  }
  return `ended undecided: ${why}. Ask the bank's API security team about it; without a confirmed attestation, access is suspended as overdue.`;
}
