import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { ServiceError } from '../errors.js';
import type { Clock, Vault } from '../ports.js';
import { linkKeyOverlapMs } from '../review/link-token.js';
import { previousOverlapMs, SIGNING_ALG, SigningKeyCache } from '../tokens/signing-keys.js';
import { formatDateTime } from '../review/format.js';
import type { LoadedPolicy } from '../policy/load.js';
import { RecertificationError } from './errors.js';

/**
 * Its own `typ` and audience, so an attestation link never passes for a review link (`gatehouse-review+jwt`, audience
 * `/reviews`) or an access token, nor the reverse.
 */
const LINK_TYP = 'gatehouse-recertification+jwt';
const DAY_MS = 86_400_000;

export interface AttestationLinkClaims {
  readonly clientId: string;
  /** The contact the link was sent to: who attests. */
  readonly contact: string;
  readonly linkId: string;
}

/**
 * The keys that verify attestation links, as for review links but with the previous key kept for the grace period too: a
 * link lives until the consumer would be suspended, so a key rotation must not end it.
 */
export function attestationLinkKeysFor(services: { readonly vault: Vault; readonly clock: Clock; readonly policy: LoadedPolicy }): SigningKeyCache {
  const grace = (services.policy.document.lifecycle.recertificationGraceDays + 1) * DAY_MS;
  return new SigningKeyCache(services.vault, services.clock, {
    previousOverlapMs: Math.max(previousOverlapMs(services.policy), linkKeyOverlapMs(services.policy), grace),
  });
}

/** Signs one contact's attestation link for one consumer, expiring when the consumer would be suspended. */
export async function signAttestationLink(keys: SigningKeyCache, issuer: string, claims: AttestationLinkClaims, expiresAt: Date, now: Date): Promise<string> {
  const key = await keys.current();
  return new SignJWT({ cid: claims.clientId })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: LINK_TYP, kid: key.kid })
    .setIssuer(issuer)
    .setAudience(`${issuer}/recertifications`)
    .setSubject(claims.contact)
    .setJti(claims.linkId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key.key);
}

/** Verifies an attestation link for the consumer in the URL; throws RecertificationError `link_expired` or `link_invalid`. */
export async function verifyAttestationLink(keys: SigningKeyCache, issuer: string, token: string, clientId: string, now: Date): Promise<AttestationLinkClaims> {
  let jwks: ReturnType<typeof createLocalJWKSet>;
  try {
    jwks = createLocalJWKSet(await keys.jwks());
  } catch (cause) {
    // A vault outage is not a bad link.
    throw new ServiceError('dependency_unavailable', 'The signing keys cannot be read right now; try the link again shortly.', {
      cause,
      retryAfterSeconds: 10,
    });
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: `${issuer}/recertifications`,
      typ: LINK_TYP,
      algorithms: [SIGNING_ALG],
      currentDate: now,
      requiredClaims: ['sub', 'jti', 'exp', 'cid'],
    });
    if (payload['cid'] !== clientId) throw new RecertificationError('link_invalid', 'This link is for another consumer.');
    return { clientId, contact: String(payload.sub), linkId: String(payload.jti) };
  } catch (cause) {
    if (cause instanceof RecertificationError) throw cause;
    if ((cause as { code?: string }).code === 'ERR_JWT_EXPIRED') {
      const exp = (cause as { payload?: { exp?: unknown } }).payload?.exp;
      const when = typeof exp === 'number' ? ` on ${formatDateTime(new Date(exp * 1000).toISOString())}` : '';
      throw new RecertificationError('link_expired', `This attestation link expired${when}.`, { cause });
    }
    throw new RecertificationError('link_invalid', 'This attestation link is not valid.', { cause });
  }
}
