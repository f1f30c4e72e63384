import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';

/** The local stand-in for the bank's commercial sign-off: a key that signs software statements. */
export interface SoftwareStatementSigner {
  readonly issuer: string;
  readonly jwks: JSONWebKeySet;
  sign(
    claims: { software_id: string; tier: string; org_name?: string; scope?: string; software_jwks_endpoint?: string },
    lifetimeSeconds?: number,
  ): Promise<string>;
}

const ISSUER = 'bank-commercial-local';

/** Loads the local signer from `path` (creating it on first use), or makes an in-memory one. */
export async function localSoftwareStatementSigner(path?: string): Promise<SoftwareStatementSigner> {
  let privateJwk: JWK;
  let publicJwk: JWK;
  if (path && existsSync(path)) {
    ({ privateJwk, publicJwk } = JSON.parse(readFileSync(path, 'utf8')) as { privateJwk: JWK; publicJwk: JWK });
  } else {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const kid = `local-commercial-${Date.now()}`;
    privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: 'ES256' };
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify({ privateJwk, publicJwk }, null, 2), { mode: 0o600 });
    }
  }
  const key = await importJWK(privateJwk, 'ES256');
  return {
    issuer: ISSUER,
    jwks: { keys: [publicJwk] },
    sign: (claims, lifetimeSeconds = 30 * 86_400) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: privateJwk.kid! })
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${lifetimeSeconds}s`)
        .sign(key),
  };
}
