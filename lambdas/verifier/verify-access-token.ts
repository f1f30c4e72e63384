import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { verifyDpopProof } from '../core/oauth/dpop.js';
import { OAuthError } from '../core/oauth/errors.js';
import { AccessError } from './errors.js';
import { RevocationCheck, type RevocationCheckOptions } from './revocation-check.js';

export interface VerifierOptions {
  /** Gatehouse's issuer identifier: tokens must carry it as `iss`. */
  readonly issuer: string;
  /** This API's identifier: tokens must carry it in `aud`. */
  readonly audience: string;
  /** Where Gatehouse publishes its keys (fetched and cached by jose), or a fixed key set. */
  readonly jwks: URL | JSONWebKeySet;
  /** @default 30 */
  readonly clockToleranceSeconds?: number;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Records a DPoP proof `jti` once. @default an in-memory cache per instance (replays across instances are bounded by
   * the proof's 60-second `iat` window; pass a shared store to close that gap).
   */
  readonly claimOnce?: (marker: string, expiresAtEpoch: number, now: Date) => Promise<boolean>;
  /**
   * Gatehouse's signed revocation list: tokens it lists (by `jti`, or by client for those issued before the client's
   * access ended) are refused. `false` turns the check off.
   * @default the list at `${issuer}/oauth2/revocations` with RevocationCheckOptions' defaults when `jwks` is a URL; off with a fixed key set
   */
  readonly revocations?: RevocationCheckOptions | false;
}

/** What an API sees of a request once the token is verified. */
export interface VerifiedAccess {
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Thumbprint of the key the token is bound to (DPoP), when it is. */
  readonly jkt: string | undefined;
  readonly claims: JWTPayload;
}

export interface ProtectedRequest {
  readonly authorization: string | undefined;
  readonly dpop: string | undefined;
  readonly method: string;
  /** The URI the client called, as it called it (for DPoP `htu`). */
  readonly url: string;
}

export type AccessTokenVerifier = (request: ProtectedRequest, requiredScopes?: readonly string[]) => Promise<VerifiedAccess>;

/**
 * A small per-instance one-time cache for DPoP `jti`s. Only expired entries are ever evicted: when it is full of live
 * ones it refuses new proofs (fails closed) rather than forget one that could then be replayed.
 */
export function memoryOnce(maxEntries = 50_000): (marker: string, expiresAtEpoch: number, now: Date) => Promise<boolean> {
  const seen = new Map<string, number>();
  return async (marker, expiresAtEpoch, now) => {
    const nowS = now.getTime() / 1000;
    const until = seen.get(marker);
    if (until !== undefined && until >= nowS) return false;
    if (seen.size >= maxEntries) for (const [k, v] of seen) if (v < nowS) seen.delete(k);
    if (seen.size >= maxEntries) return false;
    seen.set(marker, expiresAtEpoch);
    return true;
  };
}

/**
 * Builds the verifier bank APIs use to enforce what Gatehouse issued: an RFC 9068 access token (signature through the
 * cached JWKS, `typ`, `iss`, `aud`, `exp`), that Gatehouse's revocation list does not name it or its client, the required
 * scopes, and for bound tokens the DPoP proof (`ath`, `htm`, `htu`, `cnf.jkt`).
 */
export function createAccessTokenVerifier(options: VerifierOptions): AccessTokenVerifier {
  const keys: JWTVerifyGetKey =
    options.jwks instanceof URL ? createRemoteJWKSet(options.jwks, { cooldownDuration: 30_000, cacheMaxAge: 600_000 }) : createLocalJWKSet(options.jwks);
  const now = options.now ?? (() => new Date());
  const claimOnce = options.claimOnce ?? memoryOnce();
  const tolerance = options.clockToleranceSeconds ?? 30;
  const revocationOptions = options.revocations ?? (options.jwks instanceof URL ? {} : false);
  const revocations =
    revocationOptions === false ? undefined : new RevocationCheck(revocationOptions, { issuer: options.issuer, keys, clockToleranceSeconds: tolerance });

  return async (request, requiredScopes = []) => {
    const match = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i.exec(request.authorization?.trim() ?? '');
    if (!match) throw new AccessError('invalid_token', 'An access token is required.', { scheme: request.dpop ? 'DPoP' : 'Bearer' });
    const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2]!;
    const at = now();

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        typ: 'at+jwt',
        algorithms: ['ES256'],
        currentDate: at,
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'],
      }));
    } catch (cause) {
      throw new AccessError('invalid_token', 'The access token is not valid.', { scheme, cause });
    }
    const verdict = revocations ? await revocations.check(claims, at) : { refused: false as const };
    if (verdict.refused) throw new AccessError(verdict.reason === 'revoked' ? 'invalid_token' : 'temporarily_unavailable', verdict.message, { scheme });

    const jkt = (claims['cnf'] as { jkt?: unknown } | undefined)?.jkt;
    if (typeof jkt === 'string') {
      if (scheme !== 'DPoP')
        throw new AccessError('invalid_token', 'This token is DPoP-bound: present it with the DPoP scheme and a proof.', { scheme: 'DPoP' });
      if (!request.dpop) throw new AccessError('invalid_dpop_proof', 'A DPoP proof is required.', { scheme: 'DPoP' });
      try {
        await verifyDpopProof(request.dpop, { method: request.method, url: request.url, now: at, claimOnce, accessToken: token, expectedJkt: jkt });
      } catch (cause) {
        const description = cause instanceof OAuthError ? cause.message : 'The DPoP proof is not valid.';
        throw new AccessError('invalid_dpop_proof', description, { scheme: 'DPoP', cause });
      }
    } else if (scheme === 'DPoP') {
      throw new AccessError('invalid_token', 'This token is not DPoP-bound.', { scheme: 'DPoP' });
    }

    const scopes = typeof claims['scope'] === 'string' ? claims['scope'].split(' ').filter(Boolean) : [];
    const missing = requiredScopes.filter((s) => !scopes.includes(s));
    if (missing.length > 0) throw new AccessError('insufficient_scope', `The token lacks scope ${missing.join(' ')}.`, { scheme, requiredScopes });
    return { clientId: String(claims['client_id']), scopes, jkt: typeof jkt === 'string' ? jkt : undefined, claims };
  };
}
