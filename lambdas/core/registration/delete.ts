import type { Consumer } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import { notify } from '../lifecycle/notify.js';
import { revoke, type RevokeServices } from '../lifecycle/sweep.js';
import { randomToken, sha256B64u } from '../util/hash.js';
import { authorizeRegistration } from './access-token.js';
import { RegistrationError } from './errors.js';
import { updateConflict } from './update.js';

/**
 * RFC 7592 delete: the consumer is revoked at once, with every effect of a revocation (tokens refused, listed for resource
 * servers, its secret scheduled for deletion, its contacts told). A registration still under review is withdrawn instead:
 * it never had access, and its review ends. Either way the registration access token is voided in the same transaction,
 * so the registration no longer exists for it: a repeated delete, like any later call with that token, gets 401 as
 * RFC 7592 section 2.3 asks for a client that does not exist.
 */
export async function deleteRegistration(services: RevokeServices, clientId: string, bearer: string | undefined): Promise<void> {
  const consumer = await authorizeRegistration(services, clientId, bearer);
  if (consumer.status === 'pending_review') {
    await withdraw(services, consumer);
    services.metrics.record('RegistrationsDeleted', {});
    return;
  }
  if (consumer.status !== 'active' && consumer.status !== 'suspended') {
    throw new RegistrationError('update_conflict', `A ${consumer.status.replace('_', ' ')} registration has no access to end.`);
  }
  const revoked = await revoke(
    services,
    consumer,
    'deregistered',
    'The consumer deleted its registration (RFC 7592).',
    { kind: 'consumer', id: clientId },
    {
      set: { registrationTokenHash: sha256B64u(randomToken()) },
      unless: (current) => current.registrationTokenHash !== consumer.registrationTokenHash,
    },
  );
  if (!revoked) throw updateConflict();
  services.metrics.record('RegistrationsDeleted', {});
}

const WITHDRAWN = 'The requester withdrew the request before its review ended.';

/**
 * Ends a registration under review at its requester's wish. Reviewers' links then answer that the request has ended,
 * and the review workflow, when its task resumes or times out, finds the consumer withdrawn and changes nothing.
 */
async function withdraw(services: RevokeServices, consumer: Consumer): Promise<void> {
  const { consumer: after, applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: 'withdrawn',
      event: 'consumer.withdrawn',
      actor: { kind: 'consumer', id: consumer.clientId },
      data: { reason: 'deregistered', detail: 'The consumer deleted its registration under review (RFC 7592).', reviewId: consumer.openReviewId ?? null },
      set: { registrationTokenHash: sha256B64u(randomToken()), openReviewId: undefined, outcomeReason: WITHDRAWN },
      // A review that ended meanwhile (approved, denied, expired) decides the registration's fate, not this request.
      unless: (current) => current.registrationTokenHash !== consumer.registrationTokenHash || current.status !== 'pending_review',
    },
    consumer,
  );
  if (!applied) throw updateConflict();
  if (after.secretHash !== undefined) {
    await services.clientSecrets.remove(after.clientId).catch((error: unknown) =>
      // The consumer can never authenticate (it is not active); the orphan secret is an alarmable leftover.
      services.log.error('client secret not scheduled for deletion', { clientId: after.clientId, error: (error as Error).name }),
    );
  }
  await notify(services, after, {
    subject: `[Gatehouse] Request withdrawn for ${after.clientName}`,
    text: `The API access request for ${after.clientName} (${after.clientId}) was withdrawn by its requester before its review ended (RFC 7592 delete). Nothing was approved and no credentials were issued. To request access again, submit a new registration.`,
  });
}
