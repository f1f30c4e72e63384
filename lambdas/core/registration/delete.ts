import { revoke, type RevokeServices } from '../lifecycle/sweep.js';
import { randomToken, sha256B64u } from '../util/hash.js';
import { authorizeRegistration } from './access-token.js';
import { RegistrationError } from './errors.js';
import { updateConflict } from './update.js';

/**
 * RFC 7592 delete: the consumer is revoked at once, with every effect of a revocation (tokens refused, listed for resource
 * servers, its secret scheduled for deletion, its contacts told). The registration access token is voided in the same
 * transaction, so the registration no longer exists for it: a repeated delete, like any later call with that token,
 * gets 401 as RFC 7592 section 2.3 asks for a client that does not exist.
 */
export async function deleteRegistration(services: RevokeServices, clientId: string, bearer: string | undefined): Promise<void> {
  const consumer = await authorizeRegistration(services, clientId, bearer);
  if (consumer.status !== 'active' && consumer.status !== 'suspended') {
    const when = consumer.status === 'pending_review' ? '; it can be deleted once its review ends' : '';
    throw new RegistrationError('update_conflict', `A ${consumer.status.replace('_', ' ')} registration has no access to end${when}.`);
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
