import { randomBytes } from 'node:crypto';
import type { Actor } from '../audit/event.js';
import { unusedScopes, type Consumer } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import { notify } from '../lifecycle/notify.js';
import type { Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { recertificationDueAt, recertificationSuspendAt } from './due.js';
import { signAttestationLink } from './link.js';

const SWEEPER: Actor = { kind: 'system', id: 'lifecycle-sweep' };

/**
 * Sends each contact of a consumer whose recertification is due a signed, single-use attestation link of their own,
 * recorded (link ids only, never the links) with its audit event before any email goes out, so a concurrent sweep sends
 * none. The link expires when the consumer would be suspended.
 */
export async function sendAttestationLinks(
  services: Needs<'getConsumer' | 'updateConsumer', 'linkMailer'>,
  keys: SigningKeyCache,
  consumer: Consumer,
): Promise<boolean> {
  const lifecycle = services.policy.document.lifecycle;
  const due = recertificationDueAt(consumer, lifecycle)!;
  const now = services.clock.now();
  const links = consumer.contacts.map((email) => ({ email, linkId: randomBytes(16).toString('base64url') }));
  const dueAt = new Date(due).toISOString();
  const { consumer: after, applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'consumer.recertification_due',
      actor: SWEEPER,
      data: { dueAt, sentTo: consumer.contacts },
      set: { recertification: { ...consumer.recertification, dueAt, links, linksSentAt: now.toISOString() } },
      unless: (c) => c.status !== 'active' || c.recertification?.linksSentAt !== undefined || recertificationDueAt(c, lifecycle) !== due,
    },
    consumer,
  );
  if (!applied) return false;
  const suspendAt = new Date(recertificationSuspendAt(after, lifecycle)!);
  const unused = unusedScopes(consumer);
  const reopened = after.recertification?.reopened !== undefined;
  for (const link of links) {
    try {
      const token = await signAttestationLink(
        keys,
        services.config.issuer,
        { clientId: consumer.clientId, contact: link.email, linkId: link.linkId },
        suspendAt,
        now,
      );
      const url = `${services.config.issuer}/recertifications/${encodeURIComponent(consumer.clientId)}?t=${encodeURIComponent(token)}`;
      await services.linkMailer.send({
        to: [link.email],
        subject: `[Gatehouse] ${consumer.clientName}: confirm its access by ${suspendAt.toISOString().slice(0, 10)}`,
        text: [
          reopened
            ? `Bank reviewers did not decide on the last attestation of ${consumer.clientName} (${consumer.clientId}) in time, so it is not confirmed yet. This is not held against it: attest again with this new link.`
            : `${consumer.clientName} (${consumer.clientId}) is due for its periodic access review.`,
          `It holds: ${consumer.scopes.join(', ')}.${unused.length > 0 ? ` Never used: ${unused.join(', ')}.` : ''}`,
          `Open this link (it works once, for you only) to confirm the access is still needed, drop scopes it does not use, or deregister it:`,
          url,
          `Unless someone attests by ${suspendAt.toISOString()}, access is suspended.`,
        ].join('\n'),
      });
    } catch (error) {
      // The links are recorded; the reminder and the operators' listing still show the consumer as due.
      services.log.error('attestation link not sent', { clientId: consumer.clientId, error: (error as Error).name });
    }
  }
  return true;
}

/** Suspends a consumer nobody attested in time: no tokens, and the revocation list names it. */
export async function suspendOverdue(services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>, consumer: Consumer): Promise<boolean> {
  const lifecycle = services.policy.document.lifecycle;
  const due = new Date(recertificationDueAt(consumer, lifecycle)!).toISOString();
  const reviewsRanOut = consumer.recertification?.reopened?.count ?? 0;
  const detail =
    reviewsRanOut > 0
      ? `Its periodic access review was due on ${due}; its owner attested, but bank reviewers confirmed no attestation in time (${reviewsRanOut} new window(s) to attest were given).`
      : `Its periodic access review was due on ${due} and nobody attested it within the grace period.`;
  const now = services.clock.now();
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: 'suspended',
      event: 'consumer.suspended',
      actor: SWEEPER,
      data: { reason: 'recertification_overdue', detail, dueAt: due, scopeUsage: { used: consumer.usedScopes ?? [], unused: unusedScopes(consumer) } },
      set: { recertification: { ...consumer.recertification, dueAt: due, overdueSuspendedAt: now.toISOString() } },
      // Re-checked on the consumer as written: an attestation recorded meanwhile (or a reopened window) defers it.
      unless: (c) => c.status !== 'active' || (recertificationSuspendAt(c, lifecycle) ?? Infinity) > now.getTime(),
    },
    consumer,
  );
  if (!applied) return false;
  await notify(services, consumer, {
    subject: `[Gatehouse] Access suspended for ${consumer.clientName}: recertification overdue`,
    text: `Access of ${consumer.clientName} (${consumer.clientId}) was suspended. ${detail}\nReinstatement needs a review: ask the bank's API security team.`,
  });
  return true;
}
