import type { Consumer } from '../consumer/consumer.js';
import { mayObtainTokens } from '../consumer/lifecycle.js';
import { ServiceError } from '../errors.js';
import { plausibleClientId } from '../oauth/client-id.js';
import { OAuthError } from '../oauth/errors.js';
import { STAGES, type ClientSecretValue } from '../ports.js';
import { parseClientSecretValue } from '../rotation/client-secret-rotation.js';
import type { Needs } from '../services.js';
import { secretMatchesHash } from '../util/hash.js';
import { registrationResponse } from './response.js';

/** RFC 7592 read: the registration access token proves the caller owns the registration, and comes back in the answer. */
export async function readRegistration(
  services: Needs<'getConsumer', 'clientSecrets'>,
  clientId: string,
  bearer: string | undefined,
): Promise<Record<string, unknown>> {
  if (!bearer) throw new OAuthError('invalid_token', 'The registration access token is required (Authorization: Bearer).');
  const consumer = plausibleClientId(clientId) ? await services.consumers.getConsumer(clientId) : undefined;
  // Unknown client and wrong token look the same (RFC 7592 §2), so client ids cannot be probed.
  if (!consumer || !secretMatchesHash(bearer, consumer.registrationTokenHash)) {
    throw new OAuthError('invalid_token', 'The registration access token is not valid for this client.');
  }
  // RFC 7592 section 3 puts registration_access_token in every client information response. Only its hash is stored, so
  // the token echoed is the one just presented (and checked against that hash); it is not rotated on read.
  return registrationResponse(consumer, services.config.issuer, { clientSecret: await deliverableSecret(services, consumer), registrationToken: bearer });
}

/**
 * The consumer's current client secret, read from the secret store: how a consumer picks up a rotated secret (RFC 7592
 * §2.1 allows a new client_secret in the read response). Only for a consumer that may still obtain tokens with one.
 */
async function deliverableSecret(services: Needs<never, 'clientSecrets'>, consumer: Consumer): Promise<string | undefined> {
  if (consumer.secretHash === undefined || !mayObtainTokens(consumer.status)) return undefined;
  let text: string | undefined;
  try {
    text = await services.clientSecrets.staged(consumer.clientId).read({ stage: STAGES.current });
  } catch (cause) {
    throw new ServiceError('dependency_unavailable', 'The client secret cannot be read right now. Try again shortly.', { cause, retryAfterSeconds: 5 });
  }
  const value = storedValue(text);
  // Never hand out a value the registry would refuse (a store out of step with the registry is an incident, not a secret).
  // Between finishSecret's two halves the store already holds the new secret while the registry has it as pending.
  const accepted = [consumer.secretHash, consumer.pendingSecretHash].filter((h): h is string => h !== undefined);
  if (value === undefined || value.clientId !== consumer.clientId || !accepted.some((h) => secretMatchesHash(value.clientSecret, h))) {
    services.log.error('client secret store out of step with the registry', { clientId: consumer.clientId });
    throw new ServiceError('dependency_unavailable', 'The client secret cannot be delivered right now. Try again shortly.', { retryAfterSeconds: 30 });
  }
  return value.clientSecret;
}

function storedValue(text: string | undefined): ClientSecretValue | undefined {
  try {
    return parseClientSecretValue(text);
  } catch {
    return undefined;
  }
}
