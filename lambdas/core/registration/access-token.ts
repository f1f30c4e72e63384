import type { Consumer } from '../consumer/consumer.js';
import { plausibleClientId } from '../oauth/client-id.js';
import { OAuthError } from '../oauth/errors.js';
import type { Needs } from '../services.js';
import { secretMatchesHash } from '../util/hash.js';

/** What every RFC 7592 call answers when its registration access token does not open the registration. */
export function refusedRegistrationToken(): OAuthError {
  return new OAuthError('invalid_token', 'The registration access token is not valid for this client.');
}

/**
 * The consumer an RFC 7592 call (read, update, delete) may act on: the registration access token proves the caller owns
 * the registration, and it ends with the grant. Unknown client, wrong token and a token past the grant look the same
 * (RFC 7592 section 2), so client ids cannot be probed.
 */
export async function authorizeRegistration(services: Needs<'getConsumer'>, clientId: string, bearer: string | undefined): Promise<Consumer> {
  if (!bearer) throw new OAuthError('invalid_token', 'The registration access token is required (Authorization: Bearer).', { challenge: 'bearer_absent' });
  const consumer = plausibleClientId(clientId) ? await services.consumers.getConsumer(clientId) : undefined;
  if (!consumer || !secretMatchesHash(bearer, consumer.registrationTokenHash)) throw refusedRegistrationToken();
  if (Date.parse(consumer.expiresAt) <= services.clock.now().getTime()) throw refusedRegistrationToken();
  return consumer;
}
