import { randomUUID, type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { Es256Signer } from './es256-signer.js';

export interface AccessTokenClaims {
  readonly issuer: string;
  readonly audience: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  readonly now: Date;
  /** Extra claims that describe the consumer to resource servers (tier, risk). */
  readonly extra?: Readonly<Record<string, string>>;
  /** Thumbprint of the DPoP key the token is bound to (RFC 9449 `cnf.jkt`). */
  readonly jkt?: string | undefined;
}

export interface MintedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: number;
}

/** RFC 9068 §2.1: the media type that tells an access token from an ID token or any other JWT. */
const ACCESS_TOKEN_TYP = 'at+jwt';

/**
 * One signer per key object, so the key is converted and the header encoded once per key rather than per token. Keyed by
 * the key object (the signing-key cache hands out the same one until a rotation), so a retired key is collected with it.
 */
const signers = new WeakMap<CryptoKey | KeyObject, Es256Signer>();

function signerFor(key: { readonly kid: string; readonly key: CryptoKey | KeyObject }): Es256Signer {
  let signer = signers.get(key.key);
  if (signer?.kid !== key.kid) {
    signer = new Es256Signer(key.kid, key.key);
    signers.set(key.key, signer);
  }
  return signer;
}

/** Signs an RFC 9068 JWT access token (`typ: at+jwt`). */
export async function mintAccessToken(key: { readonly kid: string; readonly key: CryptoKey | KeyObject }, claims: AccessTokenClaims): Promise<MintedToken> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  const exp = iat + claims.ttlSeconds;
  // JSON would write a non-finite time as null: a token that never expires to some verifiers.
  if (!Number.isFinite(exp)) throw new TypeError('An access token needs a finite issue time and lifetime.');
  const jti = randomUUID();
  return { token: await signerFor(key).sign(ACCESS_TOKEN_TYP, accessTokenPayload(claims, iat, exp, jti)), jti, expiresAt: exp };
}

/**
 * The token's claims: the extra ones first, so none of them can override a registered claim (one that names a registered
 * claim keeps its place and takes the registered value, as with object spread). Built by assignment onto an empty object:
 * an object literal that spreads the extra claims and then lists more properties builds the object property by property
 * in the runtime, a cost paid on every token.
 */
function accessTokenPayload(claims: AccessTokenClaims, iat: number, exp: number, jti: string): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  const extra = claims.extra;
  if (extra !== undefined) {
    for (const name of Object.keys(extra)) {
      // Defined, not assigned: assigning `__proto__` would set the prototype instead of adding a claim.
      if (name === '__proto__') Object.defineProperty(payload, name, { value: extra[name], enumerable: true, writable: true, configurable: true });
      else payload[name] = extra[name];
    }
  }
  payload['client_id'] = claims.clientId;
  payload['scope'] = claims.scopes.join(' ');
  if (claims.jkt) payload['cnf'] = { jkt: claims.jkt };
  payload['iss'] = claims.issuer;
  payload['sub'] = claims.clientId;
  payload['aud'] = claims.audience;
  payload['iat'] = iat;
  payload['exp'] = exp;
  payload['jti'] = jti;
  return payload;
}
