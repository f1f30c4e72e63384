import type { Consumer } from '../consumer/consumer.js';
import { mayObtainTokens } from '../consumer/lifecycle.js';
import { ServiceError } from '../errors.js';
import { STAGES, type ClientSecretValue } from '../ports.js';
import { parseClientSecretValue } from '../rotation/client-secret-rotation.js';
import type { Needs } from '../services.js';
import { randomToken, secretMatchesHash, sha256B64u } from '../util/hash.js';
import type { ChangeRequest } from '../requests/change-request.js';
import { authorizeRegistration, refusedRegistrationToken } from './access-token.js';
import { applyTransition } from '../consumer/transition.js';
import { registrationResponse } from './response.js';

/**
 * RFC 7592 read: the registration access token proves the caller owns the registration. It ends with the grant, and a
 * read that hands out a client secret replaces it (RFC 7592 section 3 lets the server issue a new one): whoever holds a
 * leaked registration response can read once at most, and the owner's next read then fails, which shows the leak.
 */
export async function readRegistration(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'clientSecrets'>,
  clientId: string,
  bearer: string | undefined,
): Promise<Record<string, unknown>> {
  const consumer = await authorizeRegistration(services, clientId, bearer);
  const updateRequest = await updateRequestStatus(services, consumer);
  const clientSecret = await deliverableSecret(services, consumer);
  if (clientSecret === undefined) {
    // Nothing secret in the answer: the token presented (checked against its stored hash) is echoed, as RFC 7592 asks.
    return { ...registrationResponse(consumer, services.config.issuer, { registrationToken: bearer! }), ...updateRequest };
  }
  const registrationToken = randomToken();
  const { consumer: updated, applied } = await applyTransition(
    services,
    {
      clientId,
      to: undefined,
      event: 'credentials.registration_token_rotated',
      actor: { kind: 'consumer', id: clientId },
      data: { reason: 'client_secret_read' },
      set: { registrationTokenHash: sha256B64u(registrationToken) },
      // A concurrent read (or a compromise report) replaced the token presented: this read lost, and so did the token.
      unless: (current) => current.registrationTokenHash !== consumer.registrationTokenHash,
    },
    consumer,
  );
  if (!applied) throw refusedRegistrationToken();
  return { ...registrationResponse(updated, services.config.issuer, { clientSecret, registrationToken }), ...updateRequest };
}

/** The latest RFC 7592 update that needed review, as the read shows it (`update_request`), so the client can follow it. */
export async function updateRequestStatus(services: Needs<'getRequest'>, consumer: Consumer): Promise<Record<string, unknown>> {
  if (consumer.updateRequestId === undefined) return {};
  const request = await services.requests.getRequest(consumer.clientId, consumer.updateRequestId);
  if (!request) return {};
  return { update_request: updateRequestBody(request) };
}

/** An update request as RFC 7592 responses show it. */
export function updateRequestBody(request: ChangeRequest): Record<string, unknown> {
  return {
    request_id: request.requestId,
    status: request.status,
    changes: request.changes ?? [],
    ...(request.outcomeReason !== undefined ? { outcome_reason: request.outcomeReason } : {}),
  };
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
