import type { Needs } from '../services.js';
import { mintAccessToken } from '../tokens/mint.js';
import { authenticateClient, ENDPOINT_PATHS } from './authenticate-client.js';
import type { OAuthDeps } from './deps.js';
import { verifyDpopProof } from './dpop.js';
import { OAuthError } from './errors.js';
import { effectiveRequirements } from '../exceptions/effective.js';
import { longestAccessTokenTtlSeconds } from '../tokens/lifetime.js';

export interface TokenRequest {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
  /** Every DPoP header value sent (RFC 9449 allows exactly one). */
  readonly dpop: readonly string[];
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope: string;
}

const HOUR_MS = 3_600_000;

/**
 * RFC 6749 §4.4 client credentials grant: authenticate by the registered method, bind the token to a DPoP key when a
 * proof comes (required where the policy says so), check the scope, sign an RFC 9068 token.
 */
export async function clientCredentials(
  services: Needs<'claimOnce' | 'recordScopes' | 'recordUse'>,
  deps: OAuthDeps,
  request: TokenRequest,
): Promise<TokenResponse> {
  const { form } = request;
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');

  const consumer = await authenticateClient(services, deps.consumers, { authorization: request.authorization, form, endpoint: 'token' }, deps.remoteKeys);
  const now = services.clock.now();

  if (grantType !== 'client_credentials') {
    // The value is echoed only when it is short and made of the characters RFC 6749 section 5.2 allows in a description
    // (printable ASCII but the double quote and backslash); anything else would come back mangled.
    const shown = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(grantType) ? ` not ${grantType}` : ' not the grant_type sent';
    throw new OAuthError('unsupported_grant_type', `Only client_credentials is supported,${shown}.`);
  }

  // After a reported secret compromise, resource servers refuse this client's tokens issued through a given second:
  // none is issued until it has passed, so a token from the new secret is never refused with the leaked ones.
  if (consumer.tokensRevokedThrough !== undefined) {
    const wait = consumer.tokensRevokedThrough - Math.floor(now.getTime() / 1000) + 1;
    if (wait > 0) {
      throw new OAuthError('temporarily_unavailable', `Tokens issued before the reported secret compromise are being revoked; retry in ${wait} s.`, {
        retryAfterSeconds: wait,
      });
    }
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

  // An approved exception (on the consumer record, so no extra read) may relax DPoP or the token lifetime.
  const requirements = effectiveRequirements(consumer, now);
  if (request.dpop.length > 1) throw new OAuthError('invalid_dpop_proof', 'Send exactly one DPoP proof.');
  let jkt: string | undefined;
  if (request.dpop.length === 1) {
    jkt = await verifyDpopProof(request.dpop[0]!, {
      method: 'POST',
      url: `${services.config.issuer}${ENDPOINT_PATHS.token}`,
      now,
      claimOnce: (marker, exp, at) => services.markers.claimOnce(marker, exp, at),
      nonces: deps.dpopNonces,
    });
  } else if (requirements.senderConstraint === 'dpop') {
    throw new OAuthError('invalid_dpop_proof', "This client's tokens must be sender-constrained: send a DPoP proof.");
  }

  // Never beyond the policy's longest TTL, whatever an exception approved earlier says: the previous signing key and the
  // revocation list are kept for that long, and no longer.
  const ttl = Math.min(requirements.accessTokenTtlSeconds, longestAccessTokenTtlSeconds(services.policy));
  const minted = await mintAccessToken(await deps.keys.current(), {
    issuer: services.config.issuer,
    audience: services.config.tokenAudience,
    clientId: consumer.clientId,
    scopes,
    ttlSeconds: ttl,
    now,
    extra: { tier: consumer.tier, risk: consumer.risk },
    jkt,
  });

  // Bookkeeping, rarely a write: a scope's first use (scope right-sizing), and liveness for dormancy at most hourly. Both
  // run together, and a failure never costs the caller its token.
  const record = async (what: string, write: () => Promise<void>): Promise<void> => {
    try {
      await write();
      deps.consumers.forget(consumer.clientId);
    } catch (error) {
      services.log.warn(`could not record ${what}`, { clientId: consumer.clientId, error: (error as Error).name });
    }
  };
  const fresh = consumer.usedScopes === undefined ? scopes : scopes.filter((s) => !consumer.usedScopes!.includes(s));
  const stale = consumer.lastUsedAt === undefined || now.getTime() - Date.parse(consumer.lastUsedAt) >= HOUR_MS;
  // Most requests have nothing to record: they then await nothing.
  if (fresh.length > 0 || stale) {
    await Promise.all([
      fresh.length > 0 ? record('scope use', () => services.consumers.recordScopes(consumer.clientId, fresh)) : undefined,
      stale ? record('use', () => services.consumers.recordUse(consumer.clientId, now, HOUR_MS)) : undefined,
    ]);
  }
  services.metrics.record('TokensIssued', { tier: consumer.tier, risk: consumer.risk });
  return { access_token: minted.token, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: ttl, scope: scopes.join(' ') };
}
