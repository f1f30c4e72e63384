import { mayObtainTokens } from '../consumer/lifecycle.js';
import type { Services } from '../services.js';
import { secretMatchesHash } from '../util/hash.js';
import { mintAccessToken } from '../tokens/mint.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { presentedCredentials } from './client-auth.js';
import type { ConsumerCache } from './consumer-cache.js';
import { OAuthError } from './errors.js';

export interface TokenRequest {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly scope: string;
}

const HOUR_MS = 3_600_000;
const SINGLE_VALUED = ['grant_type', 'scope', 'client_id', 'client_secret'];

/** RFC 6749 §4.4 client credentials grant: authenticate, check status and scope, sign an RFC 9068 token. */
export async function clientCredentials(
  services: Services,
  deps: { readonly consumers: ConsumerCache; readonly keys: SigningKeyCache },
  request: TokenRequest,
): Promise<TokenResponse> {
  const { form } = request;
  for (const name of SINGLE_VALUED) {
    if (form.getAll(name).length > 1) throw new OAuthError('invalid_request', `Parameter ${name} is repeated.`);
  }
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');

  const presented = presentedCredentials(request.authorization, form);
  const challenge = presented.method === 'client_secret_basic' ? 'Basic' : undefined;
  const refuse = (description: string) => new OAuthError('invalid_client', description, challenge ? { challenge } : {});

  const consumer = await deps.consumers.get(presented.clientId);
  if (!consumer || consumer.secretHash === undefined || !secretMatchesHash(presented.secret, consumer.secretHash)) {
    throw refuse('Client authentication failed.');
  }
  if (consumer.authMethod !== presented.method) {
    throw refuse(`This client is registered for ${consumer.authMethod}.`);
  }
  const now = services.clock.now();
  if (!mayObtainTokens(consumer.status)) throw refuse(`This client is ${consumer.status.replace('_', ' ')}.`);
  if (Date.parse(consumer.expiresAt) <= now.getTime()) throw refuse('This client’s grant has expired.');
  if (consumer.secretExpiresAt !== undefined && Date.parse(consumer.secretExpiresAt) <= now.getTime()) {
    throw refuse('This client secret has expired.');
  }

  if (grantType !== 'client_credentials') {
    throw new OAuthError('unsupported_grant_type', `Only client_credentials is supported, not ${grantType}.`);
  }

  const requested = form.get('scope');
  let scopes: readonly string[] = consumer.scopes;
  if (requested !== null) {
    const asked = [...new Set(requested.split(' ').filter(Boolean))];
    if (asked.length === 0) throw new OAuthError('invalid_scope', 'scope is empty.');
    const extra = asked.filter((s) => !consumer.scopes.includes(s));
    if (extra.length > 0) throw new OAuthError('invalid_scope', `Not granted to this client: ${extra.join(' ')}.`);
    scopes = asked;
  }

  const ttl = consumer.requirements.accessTokenTtlSeconds;
  const minted = await mintAccessToken(await deps.keys.current(), {
    issuer: services.config.issuer,
    audience: services.config.tokenAudience,
    clientId: consumer.clientId,
    scopes,
    ttlSeconds: ttl,
    now,
    extra: { tier: consumer.tier, risk: consumer.risk },
  });

  // Dormancy needs to know the consumer is alive; one write an hour is plenty.
  if (consumer.lastUsedAt === undefined || now.getTime() - Date.parse(consumer.lastUsedAt) >= HOUR_MS) {
    try {
      await services.registry.recordUse(consumer.clientId, now, HOUR_MS);
      deps.consumers.forget(consumer.clientId);
    } catch (error) {
      services.log.warn('could not record use', { clientId: consumer.clientId, error: (error as Error).name });
    }
  }
  return { access_token: minted.token, token_type: 'Bearer', expires_in: ttl, scope: scopes.join(' ') };
}
