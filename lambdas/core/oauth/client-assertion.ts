import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { MarkerStore } from '../ports.js';
import { plausibleClientId } from './client-id.js';
import { OAuthError } from './errors.js';

/**
 * Algorithms accepted for client assertions and DPoP proofs (FAPI 2.0: no RSA PKCS#1 v1.5, no HMAC, never `none`).
 * `Ed25519` is RFC 9864's fully-specified name for what older clients call `EdDSA`; both are accepted.
 */
export const ASYMMETRIC_ALGS = ['ES256', 'PS256', 'Ed25519', 'EdDSA'] as const;

/** One signature algorithm under two names: a key registered under either name verifies assertions signed under the other. */
const ED25519_NAMES: readonly string[] = ['Ed25519', 'EdDSA'];

/** The registered keys as seen for `alg`: a client that registered an `EdDSA` key and now signs as `Ed25519` (or back) is not locked out. */
function keysUsableWith(jwks: JSONWebKeySet, alg: string): JSONWebKeySet {
  if (!ED25519_NAMES.includes(alg)) return jwks;
  return { keys: jwks.keys.map((k) => (typeof k.alg === 'string' && ED25519_NAMES.includes(k.alg) ? { ...k, alg } : k)) };
}

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The clock skew tolerated (the longest lifetime accepted is the policy's `clientAssertions.maxLifetimeSeconds`). */
const SKEW_S = 60;

/** The client an assertion claims to come from, read before verification only to find its keys. */
export function assertedClientId(assertion: string): string {
  try {
    const claims = decodeJwt(assertion);
    if (typeof claims.iss === 'string' && plausibleClientId(claims.iss)) return claims.iss;
  } catch (cause) {
    throw new OAuthError('invalid_client', 'The client assertion is not a JWT.', { cause });
  }
  throw new OAuthError('invalid_client', 'The client assertion has no issuer.');
}

/** The `kid` an assertion's header names, if it is a JWT that names one (what to look for in a published key set). */
export function assertionKeyId(assertion: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(assertion);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an RFC 7523 client assertion (private_key_jwt): signature by a registered key, `iss` = `sub` = client id,
 * `aud` = the issuer or the token endpoint, an `exp` at most `maxLifetimeSeconds` away, `iat`/`nbf` within the skew, and a
 * `jti` used only once.
 */
export async function verifyClientAssertion(
  assertion: string,
  expected: {
    readonly clientId: string;
    readonly jwks: JSONWebKeySet;
    readonly audiences: readonly string[];
    readonly now: Date;
    readonly markers: Pick<MarkerStore, 'claimOnce'>;
    readonly maxLifetimeSeconds: number;
  },
): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch (cause) {
    throw new OAuthError('invalid_client', 'The client assertion is not a JWT.', { cause, beforeProof: true });
  }
  if (!ASYMMETRIC_ALGS.includes(header.alg as (typeof ASYMMETRIC_ALGS)[number])) {
    throw new OAuthError('invalid_client', `Client assertions must be signed with ${ASYMMETRIC_ALGS.join(', ')}.`, { beforeProof: true });
  }
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(keysUsableWith(expected.jwks, header.alg!)), {
      algorithms: [...ASYMMETRIC_ALGS],
      issuer: expected.clientId,
      subject: expected.clientId,
      audience: [...expected.audiences],
      currentDate: expected.now,
      clockTolerance: SKEW_S,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (cause) {
    // jose checks the claims only once the signature verifies: a claim problem is told to the key's holder alone.
    const beforeProof = !(cause instanceof joseErrors.JWTExpired || cause instanceof joseErrors.JWTClaimValidationFailed);
    throw new OAuthError('invalid_client', `The client assertion was refused: ${assertionProblem(cause)}.`, { cause, beforeProof });
  }
  const nowS = Math.floor(expected.now.getTime() / 1000);
  const exp = payload.exp!;
  const max = expected.maxLifetimeSeconds;
  // Measured from iat when the client states it, else from now (the skew allowed for a clock running behind ours).
  const lifetime = payload.iat !== undefined ? exp - payload.iat : exp - nowS;
  if (exp - nowS > max + SKEW_S || (payload.iat !== undefined && lifetime > max)) {
    throw new OAuthError('invalid_client', `Client assertions may live at most ${max} seconds; this one lives ${lifetime} seconds.`);
  }
  if (payload.iat !== undefined && payload.iat > nowS + SKEW_S) {
    throw new OAuthError('invalid_client', 'The client assertion was issued in the future.');
  }
  // A number or an object would be stringified into a different replay key than the client meant (RFC 7519 section 4.1.7: a string).
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 200) throw new OAuthError('invalid_client', 'The client assertion jti is not acceptable.');
  if (!(await expected.markers.claimOnce(`assertion:${expected.clientId}:${jti}`, exp + SKEW_S, expected.now))) {
    throw new OAuthError('invalid_client', 'The client assertion was already used (jti replay).');
  }
}

function assertionProblem(cause: unknown): string {
  if (cause instanceof joseErrors.JWTExpired) return 'it has expired';
  if (cause instanceof joseErrors.JWTClaimValidationFailed) return `claim "${cause.claim}" is not acceptable`;
  if (cause instanceof joseErrors.JWKSNoMatchingKey) return 'no registered key matches it';
  if (cause instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (cause instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  return 'it is not a valid signed JWT';
}
