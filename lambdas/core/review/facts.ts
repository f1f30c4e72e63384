import type { Consumer } from '../consumer/consumer.js';
import type { ExceptionGrant } from '../exceptions/rules.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { Reason } from '../policy/reasons.js';
import type { AuthMethod, RiskRequirements } from '../policy/schema.js';
import { describeRequest, type ChangeRequest } from '../requests/change-request.js';
import { calendarDaysBetween, dateFromNow, formatDate, formatDateTime, formatDays, formatSeconds, sentence } from './format.js';
import type { Approval } from './review.js';

/** One row of a review: a label and one or more lines of plain text (escaped by whoever renders it). */
export interface Fact {
  readonly label: string;
  readonly lines: readonly string[];
  /** Draws the eye to a risk level. */
  readonly tone?: 'risk-low' | 'risk-medium' | 'risk-high' | undefined;
}

export interface FactSection {
  readonly heading: string;
  readonly facts: readonly Fact[];
}

/** Everything a reviewer decides from, shared by the review page and both parts of the review email. */
export interface ReviewFacts {
  /** The organisation the bank's signed software statement names; undefined when none is on record. */
  readonly organisation: string | undefined;
  /** Things to check before approving, shown above everything else. */
  readonly warnings: readonly string[];
  readonly sections: readonly FactSection[];
}

const LEGAL_FORMS = /\b(ltd|limited|plc|inc|incorporated|llc|llp|lp|gmbh|ag|sa|sas|sarl|spa|srl|bv|nv|ab|as|oy|co|corp|corporation|company)\b/g;

/** Lower case, accents, legal forms and punctuation removed: "Fintech Ltd." and "FINTECH" compare equal. */
function normalisedName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replaceAll('.', '')
    .replace(LEGAL_FORMS, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

/**
 * What a reviewer must check about who is asking. The client name is chosen freely by the requester; only the
 * organisation comes from the bank's signed software statement, so a name that does not carry it may pose as someone else.
 */
export function organisationWarnings(consumer: Pick<Consumer, 'clientName' | 'organisation' | 'softwareId'>): string[] {
  const org = consumer.organisation?.trim();
  if (!org) {
    return [
      consumer.softwareId === undefined
        ? 'No software statement is on record, so no organisation is verified: confirm who is asking before you approve.'
        : `The software statement (software id ${consumer.softwareId}) names no organisation: confirm who is asking before you approve.`,
    ];
  }
  const orgKey = normalisedName(org);
  if (orgKey === '' || normalisedName(consumer.clientName).includes(orgKey)) return [];
  return [
    `The application calls itself "${consumer.clientName}", which does not contain the name of the verified organisation, "${org}". Make sure the name does not pose as another organisation (a bank, a brand, a public body) before you approve.`,
  ];
}

/** A policy reason as a sentence, without its machine code. */
export function reasonSentence(reason: Reason): string {
  return sentence(reason.message);
}

const AUTH_WORDS: Record<AuthMethod, string> = {
  private_key_jwt: 'Signed assertion from a private key only the client holds (private_key_jwt); no shared secret exists.',
  client_secret_basic: 'Client secret sent in the Authorization header (client_secret_basic).',
  client_secret_post: 'Client secret sent in the request body (client_secret_post).',
};

function describeGrant(grant: ExceptionGrant): string {
  switch (grant.rule) {
    case 'auth_method':
      return `authenticates with ${grant.value} instead`;
    case 'sender_constraint':
      return 'gets access tokens without DPoP';
    case 'dormancy_days':
      return `stays active up to ${formatDays(grant.value)} without use`;
    case 'access_token_ttl_seconds':
      return `gets access tokens valid for ${formatSeconds(grant.value)}`;
  }
}

/** The controls a consumer works under, in words: authentication, token binding and lifetime, dormancy, the grant's end. */
export function controlFacts(
  consumer: Pick<Consumer, 'authMethod' | 'expiresAt' | 'exceptions' | 'dpopBoundAccessTokens'>,
  requirements: RiskRequirements,
): Fact[] {
  const facts: Fact[] = [
    { label: 'Client authentication', lines: [AUTH_WORDS[consumer.authMethod]] },
    {
      label: 'Token binding',
      lines: [
        requirements.senderConstraint === 'dpop' || consumer.dpopBoundAccessTokens === true
          ? 'Every access token is bound to the client’s key (DPoP): a copied token is useless without that key.'
          : 'Bearer tokens (no sender constraint): whoever holds a token can use it until it expires.',
      ],
    },
    { label: 'Access-token lifetime', lines: [`${formatSeconds(requirements.accessTokenTtlSeconds)}; the client asks again after that.`] },
    { label: 'Dormancy', lines: [`Suspended automatically after ${formatDays(requirements.dormancyDays)} without use.`] },
    { label: 'End of access', lines: [`Access ends on ${formatDate(consumer.expiresAt)} whatever happens; renewing it is a new request.`] },
  ];
  if (consumer.authMethod !== 'private_key_jwt') {
    facts.push({
      label: 'Secret rotation',
      lines: [
        `The client secret is rotated every ${formatDays(requirements.secretRotationDays)}; the old one keeps working ${formatDays(requirements.secretGraceDays)} more.`,
      ],
    });
  }
  for (const exception of consumer.exceptions ?? []) {
    facts.push({ label: 'Exception in force', lines: [`Until ${formatDate(exception.expiresAt)}, the consumer ${describeGrant(exception)}.`] });
  }
  return facts;
}

function approvalFacts(approvals: readonly Approval[], round: number, required: number): Fact[] {
  if (approvals.length === 0) return [{ label: 'None yet', lines: [`This is approval ${round} of ${required}.`] }];
  return approvals.map((a) => ({
    label: `Approval ${a.round}`,
    lines: [`${a.reviewer} approved on ${formatDateTime(a.at)}.`, a.comment ? `Comment: “${a.comment}”` : 'No comment.'],
  }));
}

/**
 * An update is reviewed as what it would make the consumer: the proposed scopes, data classes, end, contacts, risk and
 * controls (the request's own fact lists what changes).
 */
function asProposed(consumer: Consumer, request: ChangeRequest | undefined): Consumer {
  if (request?.type !== 'update' || request.proposed === undefined) return consumer;
  return { ...consumer, ...request.proposed };
}

/** The facts of a request a reviewer needs, in sections; times read relative to `now`. */
export function reviewFacts(
  subject: Consumer,
  policy: LoadedPolicy,
  round: { readonly round: number; readonly approvalsRequired: number },
  now: Date,
  request?: ChangeRequest,
): ReviewFacts {
  const consumer = asProposed(subject, request);
  const doc = policy.document;
  const scopes = consumer.scopes.map((s) => {
    const def = doc.scopes[s];
    return def ? `${s} (${def.risk} risk): ${sentence(def.description)}` : `${s} (unknown risk): not in the policy's catalogue.`;
  });
  const dataClasses = consumer.dataClasses.map((d) => {
    const def = doc.dataClasses[d];
    return def ? `${d} (${def.risk} risk): ${sentence(def.description)}` : `${d} (unknown risk): not in the policy's catalogue.`;
  });
  const tier = doc.tiers[consumer.tier];
  const requestedAt = request ? request.createdAt : consumer.createdAt;
  const grantDays = calendarDaysBetween(new Date(consumer.createdAt), consumer.expiresAt);

  const who: Fact[] = [
    { label: 'Verified organisation', lines: [consumer.organisation?.trim() || 'None on record'] },
    { label: 'Application name', lines: [`${consumer.clientName} (chosen by the requester)`] },
    { label: 'Client id', lines: [consumer.clientId] },
    { label: 'Tier', lines: [tier ? `${consumer.tier} — ${sentence(tier.description)}` : consumer.tier] },
    { label: 'Software id', lines: [consumer.softwareId ?? '—'] },
    { label: 'Contacts', lines: [consumer.contacts.join(', ')] },
  ];

  const change: Fact[] = request
    ? [
        { label: 'Request', lines: [`${sentence(describeRequest(request, formatDate))}`, `Request id ${request.requestId}.`] },
        { label: 'Justification', lines: [request.justification] },
        { label: 'Requested by', lines: [request.requestedBy] },
        { label: 'Consumer status', lines: [consumer.status.replaceAll('_', ' ')] },
        ...(consumer.outOfPolicy
          ? [
              {
                label: 'Out of policy',
                lines: [...consumer.outOfPolicy.reasons.map(reasonSentence), `Suspension due on ${dateFromNow(consumer.outOfPolicy.suspendAt, now)}.`],
              },
            ]
          : []),
      ]
    : [];
  const ask: Fact[] = [
    ...change,
    { label: 'Purpose', lines: [consumer.purpose] },
    { label: 'Scopes', lines: scopes },
    { label: 'Data classes', lines: dataClasses },
    { label: 'Risk', lines: [consumer.risk], tone: `risk-${consumer.risk}` },
    ...(request ? [] : [{ label: 'Why review', lines: consumer.decisionReasons.map(reasonSentence) }]),
    {
      label: 'Access until',
      lines: [
        dateFromNow(consumer.expiresAt, now),
        `A grant of ${formatDays(grantDays)} from ${formatDate(consumer.createdAt)}; ${consumer.risk} risk allows at most ${formatDays(consumer.requirements.maxGrantDays)}.`,
      ],
    },
    { label: 'Requested on', lines: [formatDateTime(requestedAt)] },
    { label: 'Policy', lines: [consumer.policyVersion] },
  ];

  const approvals = (request ? request.approvals : consumer.approvals) ?? [];
  const controlsHeading =
    request?.type === 'exception'
      ? 'Controls in force now (the exception relaxes one of them)'
      : 'What approval brings: the controls this consumer works under';
  return {
    organisation: consumer.organisation?.trim() || undefined,
    warnings: organisationWarnings(consumer),
    sections: [
      { heading: 'Who is asking', facts: who },
      { heading: request ? 'The request' : 'What they ask for', facts: ask },
      { heading: 'Earlier approvals', facts: approvalFacts(approvals, round.round, round.approvalsRequired) },
      { heading: controlsHeading, facts: controlFacts(consumer, consumer.requirements) },
    ],
  };
}
