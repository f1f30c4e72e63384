import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { sha256B64u } from '../util/hash.js';
import { hasPrivateMembers } from '../util/jwk.js';
import { ASYMMETRIC_ALGS } from './client-assertion.js';
import type { DpopNonces } from './dpop-nonce.js';
import { OAuthError } from './errors.js';

/** How far a proof's `iat` may be from now. */
const IAT_WINDOW_S = 60;

export interface DpopCheck {
  readonly method: string;
  /** The target URI as the client addressed it (query and fragment are ignored, RFC 9449 §4.3). */
  readonly url: string;
  readonly now: Date;
  /** Records the proof's `jti` once (Registry.claimOnce in Gatehouse; a local cache in a resource server). */
  readonly claimOnce: (marker: string, expiresAtEpoch: number, now: Date) => Promise<boolean>;
  /** When a token is presented with the proof, its `ath` must match. */
  readonly accessToken?: string | undefined;
  /** When the token is bound, the proof must be signed by that key. */
  readonly expectedJkt?: string | undefined;
  /** When the server requires nonces (RFC 9449 section 8): the proof's `nonce` must be one it accepts. */
  readonly nonces?: DpopNonces | undefined;
}

/** Normalises an HTTP URI for `htu` comparison: scheme and host lower-case, no query or fragment, default port dropped. */
export function normaliseHtu(value: string): string {
  const u = new URL(value);
  u.hash = '';
  u.search = '';
  return u.href;
}

/** Verifies an RFC 9449 DPoP proof and returns the JWK thumbprint (`jkt`) of its key. Throws `invalid_dpop_proof`. */
export async function verifyDpopProof(proof: string, check: DpopCheck): Promise<string> {
  const refuse = (why: string, cause?: unknown) =>
    new OAuthError('invalid_dpop_proof', `The DPoP proof was refused: ${why}.`, cause === undefined ? {} : { cause });
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (cause) {
    throw refuse('it is not a JWT', cause);
  }
  if (header.typ !== 'dpop+jwt') throw refuse('typ must be dpop+jwt');
  if (!ASYMMETRIC_ALGS.includes(header.alg as (typeof ASYMMETRIC_ALGS)[number])) throw refuse(`alg must be one of ${ASYMMETRIC_ALGS.join(', ')}`);
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object') throw refuse('the header carries no jwk');
  if (hasPrivateMembers(jwk)) throw refuse('the jwk must be a public key');

  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    const key = await importJWK(jwk, header.alg);
    ({ payload } = await jwtVerify(proof, key, {
      typ: 'dpop+jwt',
      algorithms: [header.alg!],
      currentDate: check.now,
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    }));
  } catch (cause) {
    throw refuse('its signature or claims do not verify', cause);
  }
  if (payload['htm'] !== check.method) throw refuse('htm does not match the request method');
  let htu: string;
  try {
    htu = normaliseHtu(String(payload['htu']));
  } catch (cause) {
    throw refuse('htu is not a URI', cause);
  }
  if (htu !== normaliseHtu(check.url)) throw refuse('htu does not match the request URI');
  const nowS = Math.floor(check.now.getTime() / 1000);
  if (Math.abs(nowS - payload.iat!) > IAT_WINDOW_S) throw refuse('iat is outside the accepted window');
  if (check.accessToken !== undefined && payload['ath'] !== sha256B64u(check.accessToken)) throw refuse('ath does not match the access token');

  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  if (check.expectedJkt !== undefined && jkt !== check.expectedJkt) throw refuse('it is not signed by the key the token is bound to');
  // RFC 9449 section 4.2: jti is a string; String() would let 1 and "1" or any object share one replay key.
  const jti = payload.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 200) throw refuse('jti is not acceptable');
  // Checked before the jti is spent, so the retry RFC 9449 section 8 asks for costs the client nothing but a new proof.
  if (check.nonces && !(await check.nonces.accepts(payload['nonce'], check.now))) {
    const dpopNonce = await check.nonces.issue(check.now);
    throw new OAuthError('use_dpop_nonce', 'The DPoP proof must carry the nonce in the DPoP-Nonce header (RFC 9449 section 8).', { dpopNonce });
  }
  if (!(await check.claimOnce(`dpop:${jkt}:${jti}`, payload.iat! + IAT_WINDOW_S * 2, check.now))) throw refuse('its jti was already used');
  return jkt;
}
