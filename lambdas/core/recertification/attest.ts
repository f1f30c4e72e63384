import type { Actor } from '../audit/event.js';
import { ServiceError } from '../errors.js';
import { unusedScopes, type Attestation, type Consumer } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import { formatDateTime } from '../review/format.js';
import { openRequest } from '../requests/open-request.js';
import type { Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { deregister, scopeDropSet } from './changes.js';
import { nextRecertificationDueAt, recertificationDueAt, recertificationSuspendAt } from './due.js';
import { RecertificationError } from './errors.js';
import { verifyAttestationLink, type AttestationLinkClaims } from './link.js';

/** What an attestation reads and writes: the consumer, a review workflow (high risk), and a revocation's effects. */
export type AttestServices = Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'workflow' | 'clientSecrets' | 'mailer'>;

/** What the attestation page shows: the consumer as held and as used, and who is attesting. */
export interface AttestationView {
  readonly consumer: Consumer;
  readonly link: AttestationLinkClaims;
  readonly unused: readonly string[];
  readonly dueAt: string;
  readonly suspendAt: string;
  /** A bank reviewer must confirm the attestation before the due date moves (high risk). */
  readonly needsReviewer: boolean;
}

export type AttestationChoice = { readonly action: 'confirm'; readonly dropScopes: readonly string[] } | { readonly action: 'deregister' };

export type AttestationOutcome = 'confirmed' | 'awaiting_confirmation' | 'deregistered';

const linkOpen = (consumer: Consumer, link: AttestationLinkClaims): boolean =>
  consumer.status === 'active' && (consumer.recertification?.links ?? []).some((l) => l.linkId === link.linkId && l.email === link.contact);

/** The refusal for a link that no longer opens anything: used (by whom, when), replaced, or its consumer no longer active. */
function closedLinkError(consumer: Consumer, link: AttestationLinkClaims): RecertificationError {
  const r = consumer.recertification;
  const made: Attestation | undefined = [r?.pending, r?.last].find((a) => a?.linkId === link.linkId);
  if (made) return new RecertificationError('already_attested', `This link was already used on ${formatDateTime(made.at)}.`);
  const other = r?.pending ?? (r?.last && r.links === undefined ? r.last : undefined);
  if (other) return new RecertificationError('already_attested', `${other.attestedBy} already attested this consumer on ${formatDateTime(other.at)}.`);
  if (consumer.status !== 'active') return new RecertificationError('not_active', `${consumer.clientName} is ${consumer.status}; there is nothing to attest.`);
  return new RecertificationError('link_invalid', 'This attestation link is not valid (a newer one may have replaced it).');
}

/** Loads what a link shows, checking the link (signature, expiry, contact, still unused). Changes nothing. */
export async function openAttestation(services: Needs<'getConsumer'>, keys: SigningKeyCache, clientId: string, token: string): Promise<AttestationView> {
  const link = await verifyAttestationLink(keys, services.config.issuer, token, clientId, services.clock.now());
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer) throw new RecertificationError('link_invalid', 'This attestation link is not valid.');
  if (!linkOpen(consumer, link)) throw closedLinkError(consumer, link);
  const lifecycle = services.policy.document.lifecycle;
  return {
    consumer,
    link,
    unused: unusedScopes(consumer),
    dueAt: new Date(recertificationDueAt(consumer, lifecycle)!).toISOString(),
    suspendAt: new Date(recertificationSuspendAt(consumer, lifecycle)!).toISOString(),
    needsReviewer: consumer.risk === 'high',
  };
}

/**
 * Records the owner's answer. Confirm (optionally dropping scopes, which only lowers risk and applies at once): low and
 * medium risk start the next period now; high risk opens a `recertification` change request that bank reviewers confirm
 * through the review workflow, and the period moves only then. Deregister revokes the consumer. Each link works once: the
 * change is conditional on the link still being open, in the same transaction as its audit event.
 */
export async function attest(
  services: AttestServices,
  keys: SigningKeyCache,
  input: { readonly clientId: string; readonly token: string; readonly choice: AttestationChoice },
): Promise<{ readonly consumer: Consumer; readonly outcome: AttestationOutcome; readonly scopesRemoved: readonly string[] }> {
  const view = await openAttestation(services, keys, input.clientId, input.token);
  const { consumer, link } = view;
  const actor: Actor = { kind: 'consumer', id: link.contact };
  const now = services.clock.now();
  const at = now.toISOString();
  if (input.choice.action === 'deregister') {
    const detail = `Deregistered by ${link.contact} at its periodic access review.`;
    if (!(await deregister(services, consumer, actor, detail)))
      throw closedLinkError((await services.consumers.getConsumer(consumer.clientId)) ?? consumer, link);
    services.metrics.record('RecertificationOutcomes', { outcome: 'deregistered' });
    return { consumer: (await services.consumers.getConsumer(consumer.clientId)) ?? consumer, outcome: 'deregistered', scopesRemoved: [] };
  }
  const scopesRemoved = [...new Set(input.choice.dropScopes)];
  const drop = scopesRemoved.length > 0 ? scopeDropSet(consumer, scopesRemoved) : {};
  const attestation: Attestation = { at, linkId: link.linkId, attestedBy: link.contact, scopesRemoved };
  const stillOpen = (c: Consumer) => !linkOpen(c, link);
  if (view.needsReviewer) {
    const requirements = services.policy.document.risks[consumer.risk];
    // The review SLA bounds the wait: the consumer is not suspended for being overdue while reviewers still may confirm.
    const until = new Date(now.getTime() + requirements.reviewSlaHours * 3_600_000).toISOString();
    await openRequest(
      services,
      consumer,
      { id: `attestation-link:${link.linkId}`, person: link.contact },
      {
        type: 'recertification',
        justification: `attested by ${link.contact}${scopesRemoved.length > 0 ? `, dropping ${scopesRemoved.join(', ')}` : ''}`,
        risk: consumer.risk,
        requirements,
      },
      { attestedBy: link.contact, scopesRemoved, linkId: link.linkId },
      {
        actor,
        set: (request) => ({
          ...drop,
          // The links end (each worked once), but stay recorded as sent: the sweep sends none again for this due date.
          recertification: {
            dueAt: view.dueAt,
            linksSentAt: consumer.recertification?.linksSentAt ?? at,
            ...lastOf(consumer),
            // A window reopened after an undecided review still counts towards the bound on reopenings.
            ...(consumer.recertification?.reopened ? { reopened: consumer.recertification.reopened } : {}),
            pending: { ...attestation, requestId: request.requestId, until },
          },
        }),
        unless: stillOpen,
      },
    ).catch(async (error: unknown) => {
      throw error instanceof ServiceError && error.code === 'conflict'
        ? closedLinkError((await services.consumers.getConsumer(consumer.clientId)) ?? consumer, link)
        : error;
    });
    services.metrics.record('RecertificationOutcomes', { outcome: 'review' });
    return { consumer: (await services.consumers.getConsumer(consumer.clientId)) ?? consumer, outcome: 'awaiting_confirmation', scopesRemoved };
  }
  const dueAt = nextRecertificationDueAt(now, consumer.risk, services.policy.document.lifecycle)!;
  const { consumer: after, applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'consumer.recertified',
      actor,
      data: { attestedBy: link.contact, scopesRemoved, linkId: link.linkId, previousDueAt: view.dueAt, nextDueAt: dueAt },
      set: { ...drop, recertification: { dueAt, last: attestation } },
      unless: stillOpen,
    },
    consumer,
  );
  if (!applied) throw closedLinkError(after, link);
  services.metrics.record('RecertificationOutcomes', { outcome: scopesRemoved.length > 0 ? 'scopes_dropped' : 'confirmed' });
  return { consumer: after, outcome: 'confirmed', scopesRemoved };
}

const lastOf = (consumer: Consumer) => (consumer.recertification?.last ? { last: consumer.recertification.last } : {});
