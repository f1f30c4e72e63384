import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { SIGNING_ALG } from './signing-keys.js';

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
  readonly jkt?: string;
}

export interface MintedToken {
  readonly token: string;
  readonly jti: string;
  readonly expiresAt: number;
}

/** Signs an RFC 9068 JWT access token (`typ: at+jwt`). */
export async function mintAccessToken(key: { kid: string; key: CryptoKey }, claims: AccessTokenClaims): Promise<MintedToken> {
  const iat = Math.floor(claims.now.getTime() / 1000);
  const exp = iat + claims.ttlSeconds;
  const jti = randomUUID();
  const body = { ...claims.extra, client_id: claims.clientId, scope: claims.scopes.join(' '), ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}) };
  const token = await new SignJWT(body)
    .setProtectedHeader({ alg: SIGNING_ALG, typ: 'at+jwt', kid: key.kid })
    .setIssuer(claims.issuer)
    .setSubject(claims.clientId)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.key);
  return { token, jti, expiresAt: exp };
}
