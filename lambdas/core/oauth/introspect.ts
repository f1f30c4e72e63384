import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { BaseServices, Needs } from '../services.js';
import type { SigningKeyCache } from '../tokens/signing-keys.js';
import { SIGNING_ALG } from '../tokens/signing-keys.js';
import { authenticateClient } from './authenticate-client.js';
import type { OAuthDeps } from './deps.js';
import { OAuthError } from './errors.js';

/** The scope a resource server needs to call the introspection endpoint. */
export const INTROSPECT_SCOPE = 'tokens:introspect';

/** Verifies one of our own access tokens (signature, issuer, typ, expiry); undefined when it is not one. */
export async function verifyOwnToken(services: BaseServices, keys: SigningKeyCache, token: string): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(await keys.jwks()), {
      issuer: services.config.issuer,
      typ: 'at+jwt',
      algorithms: [SIGNING_ALG],
      currentDate: services.clock.now(),
      requiredClaims: ['exp', 'jti', 'client_id'],
    });
    return payload;
  } catch {
    return undefined;
  }
}

/**
 * RFC 7662 introspection for authenticated resource servers holding `tokens:introspect`. A token is active only while
 * its signature and expiry hold, it was not revoked, and its consumer is active now (read fresh, never from a cache).
 */
export async function introspect(
  services: Needs<'getConsumer' | 'hasMarker' | 'claimOnce'>,
  deps: OAuthDeps,
  request: { readonly authorization: string | undefined; readonly form: URLSearchParams },
): Promise<Record<string, unknown>> {
  const caller = await authenticateClient(services, deps.consumers, { ...request, endpoint: 'introspect' }, deps.remoteKeys);
  if (!caller.scopes.includes(INTROSPECT_SCOPE)) {
    throw new OAuthError('unauthorized_client', `Introspection needs the ${INTROSPECT_SCOPE} scope.`);
  }
  const token = request.form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required.');

  const claims = await verifyOwnToken(services, deps.keys, token);
  if (!claims) return { active: false };
  const now = services.clock.now();
  if (await services.markers.hasMarker(`revoked:${String(claims.jti)}`, now)) return { active: false };
  const owner = await services.consumers.getConsumer(String(claims['client_id']));
  if (!owner || owner.status !== 'active' || Date.parse(owner.expiresAt) <= now.getTime()) return { active: false };
  // Issued before a reported secret compromise (by the owner or by whoever held the secret): refused like the list says.
  if (owner.tokensRevokedThrough !== undefined && typeof claims.iat === 'number' && claims.iat <= owner.tokensRevokedThrough) return { active: false };

  const cnf = claims['cnf'] as { jkt?: string } | undefined;
  return {
    active: true,
    scope: claims['scope'],
    client_id: claims['client_id'],
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    token_type: cnf?.jkt ? 'DPoP' : 'Bearer',
    ...(cnf?.jkt ? { cnf: { jkt: cnf.jkt } } : {}),
    tier: owner.tier,
    risk: owner.risk,
  };
}

/**
 * RFC 7009 revocation: a client revokes its own access token; the `jti` is refused until the token would have expired,
 * here and (through the published revocation list) by resource servers. Tokens that are not ours or already invalid are
 * answered with success, as the RFC asks.
 */
export async function revoke(
  services: Needs<'claimOnce' | 'recordTokenRevocation'>,
  deps: OAuthDeps,
  request: { readonly authorization: string | undefined; readonly form: URLSearchParams },
): Promise<void> {
  const caller = await authenticateClient(services, deps.consumers, { ...request, endpoint: 'revoke' }, deps.remoteKeys);
  const token = request.form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  // token_type_hint only guides the search (RFC 7009 §2.1); Gatehouse issues access tokens only, so it is ignored.
  const claims = await verifyOwnToken(services, deps.keys, token);
  if (!claims) return;
  if (claims['client_id'] !== caller.clientId) {
    throw new OAuthError('unauthorized_client', 'A client may revoke only its own tokens.');
  }
  // Listed first: a failure after it leaves the token refused by resource servers, and the client's retry completes it.
  await services.revocations.recordTokenRevocation({ jti: String(claims.jti), exp: claims.exp! });
  await services.markers.claimOnce(`revoked:${String(claims.jti)}`, claims.exp!, services.clock.now());
}
