import { routePath } from '../../contracts/routes.js';
import type { Consumer } from '../consumer/consumer.js';
import { mayObtainTokens } from '../consumer/lifecycle.js';
import { RemoteKeySetError } from '../remote-jwks/errors.js';
import type { RemoteKeySetCache } from '../remote-jwks/cache.js';
import type { Needs } from '../services.js';
import { secretMatchesHash } from '../util/hash.js';
import { assertionKeyId, verifyClientAssertion } from './client-assertion.js';
import { presentedCredentials } from './client-auth.js';
import { plausibleClientId } from './client-id.js';
import type { ConsumerCache } from './consumer-cache.js';
import { CLIENT_AUTHENTICATION_FAILED, OAuthError } from './errors.js';
import { acceptedKeys } from '../consumer/keys.js';

/**
 * Which of a consumer's secrets the presented one is: the current one, the one being rotated in (accepted from the moment
 * the registry stages it, so the switch-over cannot fail), or the rotated-out one within its grace window. After a
 * reported compromise only the one being rotated in.
 */
function matchingSecret(consumer: Consumer, presented: string, now: Date): 'current' | 'pending' | 'previous' | undefined {
  if (consumer.pendingSecretHash !== undefined && secretMatchesHash(presented, consumer.pendingSecretHash)) return 'pending';
  // A secret reported compromised ends at once, without the grace a scheduled rotation gives.
  if (consumer.secretCompromisedAt !== undefined) return undefined;
  if (consumer.secretHash !== undefined && secretMatchesHash(presented, consumer.secretHash)) return 'current';
  const graceEnds = consumer.previousSecretExpiresAt === undefined ? 0 : Date.parse(consumer.previousSecretExpiresAt);
  if (consumer.previousSecretHash !== undefined && graceEnds > now.getTime() && secretMatchesHash(presented, consumer.previousSecretHash)) return 'previous';
  return undefined;
}

/** Parameters that RFC 6749 §3.2 forbids repeating, checked before anything else. */
const SINGLE_VALUED = ['grant_type', 'scope', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'token', 'token_type_hint'];

/** Endpoints a client authenticates at; all accept an assertion addressed to the issuer or to themselves. */
export type ClientEndpoint = 'token' | 'introspect' | 'revoke';

export const ENDPOINT_PATHS: Readonly<Record<ClientEndpoint, string>> = {
  token: routePath('issueToken'),
  introspect: routePath('introspectToken'),
  revoke: routePath('revokeToken'),
};

/**
 * Authenticates the calling client by the method it registered (and only that one), and checks it is active and within
 * its grant. Every failure is `invalid_client` (401), challenged for the method the client tried (see Challenge).
 */
export async function authenticateClient(
  services: Needs<'claimOnce'>,
  consumers: ConsumerCache,
  request: { readonly authorization: string | undefined; readonly form: URLSearchParams; readonly endpoint: ClientEndpoint },
  remoteKeys?: RemoteKeySetCache,
): Promise<Consumer> {
  for (const name of SINGLE_VALUED) {
    if (request.form.getAll(name).length > 1) throw new OAuthError('invalid_request', `Parameter ${name} is repeated.`);
  }
  const presented = presentedCredentials(request.authorization, request.form);
  // RFC 6749 section 5.2: a Basic challenge answers a client that tried the Authorization header, and only that.
  const challenge = presented.method === 'client_secret_basic' ? 'Basic' : presented.method;
  const refuse = (description: string) => new OAuthError('invalid_client', description, { challenge });
  const now = services.clock.now();

  // Until the caller proves it holds the client's credential, every refusal reads the same as for an unknown id; the
  // reason goes to the log only.
  const unproven = (reason: string) => {
    services.log.info('client authentication failed', { clientId: presented.clientId.slice(0, 200), method: presented.method, reason });
    return refuse(CLIENT_AUTHENTICATION_FAILED);
  };
  const consumer = plausibleClientId(presented.clientId) ? await consumers.get(presented.clientId) : undefined;
  if (!consumer) throw unproven('unknown client');
  // After an update moved the client between a secret and keys, the credential it used before is accepted through its
  // grace window, and only that one: a key-bound client's retired secret, or a secret-bound client's retired keys.
  const retired = consumer.authMethod !== presented.method && (consumer.authMethod === 'private_key_jwt') !== (presented.method === 'private_key_jwt');
  if (consumer.authMethod !== presented.method && !retired) {
    // Checked before the credential, so a secret never authenticates a key-bound client. The answer does not say
    // which method is registered: that would tell an unauthenticated caller the client exists.
    throw unproven(`registered for ${consumer.authMethod}`);
  }
  if (presented.method === 'private_key_jwt') {
    const keys = retired ? [] : await registeredKeys(services, consumer, presented.assertion, remoteKeys, unproven);
    const issuer = services.config.issuer;
    try {
      await verifyClientAssertion(presented.assertion, {
        clientId: consumer.clientId,
        // Keys removed by an update stay accepted through their rollover grace.
        jwks: { keys: [...keys, ...acceptedKeys({ retiredKeys: consumer.retiredKeys }, now)].map((k) => ({ ...k })) },
        audiences: [issuer, `${issuer}${ENDPOINT_PATHS[request.endpoint]}`],
        now,
        markers: services.markers,
        maxLifetimeSeconds: services.policy.document.clientAssertions.maxLifetimeSeconds,
      });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      throw error.beforeProof ? unproven(error.message) : error.withChallenge(challenge);
    }
  } else {
    const matched = matchingSecret(consumer, presented.secret, now);
    if (matched === undefined || (retired && matched !== 'previous')) throw unproven(retired ? `registered for ${consumer.authMethod}` : 'wrong secret');
    // Operators can see who still uses a rotated-out secret before its grace window ends.
    if (matched === 'previous')
      services.log.info('client authenticated with its previous secret', { clientId: consumer.clientId, validUntil: consumer.previousSecretExpiresAt });
  }
  if (retired)
    services.log.info('client authenticated with a credential retired by a change of method', { clientId: consumer.clientId, method: presented.method });
  if (!mayObtainTokens(consumer.status)) throw refuse(`This client is ${consumer.status.replace('_', ' ')}.`);
  if (Date.parse(consumer.expiresAt) <= now.getTime()) throw refuse("This client's grant has expired.");
  if (consumer.secretExpiresAt !== undefined && Date.parse(consumer.secretExpiresAt) <= now.getTime()) {
    throw refuse('This client secret has expired.');
  }
  return consumer;
}

/**
 * The keys a private_key_jwt client's assertion is checked against: those registered inline, or those its `jwks_uri`
 * publishes (cached; refetched for a `kid` not yet seen). A key set that cannot be had is refused like a wrong key, with
 * the reason in the log, and warned about: the partner's endpoint is down or broken, which its owners need to hear.
 */
async function registeredKeys(
  services: Needs<'claimOnce'>,
  consumer: Consumer,
  assertion: string,
  remoteKeys: RemoteKeySetCache | undefined,
  unproven: (reason: string) => OAuthError,
): Promise<ReadonlyArray<Readonly<Record<string, unknown>>>> {
  if (consumer.jwksUri === undefined) {
    if (!consumer.jwks) throw unproven('no registered keys');
    return consumer.jwks.keys;
  }
  if (remoteKeys === undefined) throw unproven('keys at jwks_uri, which this endpoint cannot fetch');
  try {
    const { set, fetched } = await remoteKeys.keysFor(consumer.clientId, consumer.jwksUri, assertionKeyId(assertion));
    if (fetched === 'unknown_kid') services.log.info('client key set refetched for an unknown kid', { clientId: consumer.clientId });
    return set.keys;
  } catch (error) {
    if (!(error instanceof RemoteKeySetError)) throw error;
    services.log.warn('client key set unavailable', { clientId: consumer.clientId, reason: error.code, detail: error.message });
    throw unproven(`jwks_uri: ${error.message}`);
  }
}
