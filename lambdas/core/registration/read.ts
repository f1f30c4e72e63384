import { OAuthError } from '../oauth/errors.js';
import type { Services } from '../services.js';
import { secretMatchesHash } from '../util/hash.js';
import { registrationResponse } from './response.js';

/** RFC 7592 read: the registration access token proves the caller owns the registration. */
export async function readRegistration(services: Services, clientId: string, bearer: string | undefined): Promise<Record<string, unknown>> {
  if (!bearer) throw new OAuthError('invalid_token', 'The registration access token is required (Authorization: Bearer).');
  const consumer = await services.registry.getConsumer(clientId);
  // Unknown client and wrong token look the same (RFC 7592 §2), so client ids cannot be probed.
  if (!consumer || !secretMatchesHash(bearer, consumer.registrationTokenHash)) {
    throw new OAuthError('invalid_token', 'The registration access token is not valid for this client.');
  }
  return registrationResponse(consumer, services.config.issuer);
}
