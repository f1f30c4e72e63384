import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import type { Clock, Vault } from '../ports.js';
import { previousOverlapMs, SIGNING_ALG, SigningKeyCache } from '../tokens/signing-keys.js';
import { ServiceError } from '../errors.js';
import { ReviewError } from './errors.js';
import { formatDateTime } from './format.js';

/** Its own `typ`, so a review link can never pass for an access token or the reverse. */
const LINK_TYP = 'gatehouse-review+jwt';

/** The policy shape the link keys read: each risk's access-token lifetime and review SLA. */
interface LinkKeyPolicy {
  readonly document: { readonly risks: Record<string, { readonly accessTokenTtlSeconds: number; readonly reviewSlaHours: number }> };
}

/**
 * How long the previous signing key keeps verifying review links after the current one starts signing: the policy's
 * longest review SLA plus 5 minutes (a link lives as long as its round). The key signed the link no later than that
 * start, so every open link still verifies after one rotation.
 */
export function linkKeyOverlapMs(policy: LinkKeyPolicy): number {
  return (Math.max(...Object.values(policy.document.risks).map((r) => r.reviewSlaHours)) * 3600 + 300) * 1000;
}

/**
 * The keys that verify review links: the signing keys, with the previous one kept for the longest review SLA rather
 * than the access-token lifetime (which is all JWKS publishes it for), so a rotation does not end open links.
 */
export function reviewLinkKeysFor(services: { readonly vault: Vault; readonly clock: Clock; readonly policy: LinkKeyPolicy }): SigningKeyCache {
  return new SigningKeyCache(services.vault, services.clock, {
    previousOverlapMs: Math.max(previousOverlapMs(services.policy), linkKeyOverlapMs(services.policy)),
  });
}

export interface ReviewLinkClaims {
  readonly reviewId: string;
  readonly reviewer: string;
  readonly linkId: string;
}

/** Signs a reviewer's link token with the vault's signing key: bound to one reviewer and one review, expiring with the SLA. */
export async function signReviewLink(keys: SigningKeyCache, issuer: string, claims: ReviewLinkClaims, expiresAt: Date, now: Date): Promise<string> {
  const key = await keys.current();
  return new SignJWT({ rid: claims.reviewId })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: LINK_TYP, kid: key.kid })
    .setIssuer(issuer)
    .setAudience(`${issuer}/reviews`)
    .setSubject(claims.reviewer)
    .setJti(claims.linkId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key.key);
}

/**
 * Verifies a link token for the review in the URL (with keys from reviewLinkKeysFor); throws ReviewError `link_expired`
 * or `link_invalid`.
 */
export async function verifyReviewLink(keys: SigningKeyCache, issuer: string, token: string, reviewId: string, now: Date): Promise<ReviewLinkClaims> {
  // Read outside the try: a vault outage is not a bad link (it surfaces as 503, not 403).
  let jwks: ReturnType<typeof createLocalJWKSet>;
  try {
    jwks = createLocalJWKSet(await keys.jwks());
  } catch (cause) {
    throw new ServiceError('dependency_unavailable', 'The signing keys cannot be read right now; try the link again shortly.', {
      cause,
      retryAfterSeconds: 10,
    });
  }
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: `${issuer}/reviews`,
      typ: LINK_TYP,
      algorithms: [SIGNING_ALG],
      currentDate: now,
      requiredClaims: ['sub', 'jti', 'exp', 'rid'],
    });
    if (payload['rid'] !== reviewId) throw new ReviewError('link_invalid', 'This link is for another review.');
    return { reviewId, reviewer: String(payload.sub), linkId: String(payload.jti) };
  } catch (cause) {
    if (cause instanceof ReviewError) throw cause;
    if ((cause as { code?: string }).code === 'ERR_JWT_EXPIRED') {
      // The link expires with its round's deadline, so its `exp` says when the review period ended.
      const exp = (cause as { payload?: { exp?: unknown } }).payload?.exp;
      const when = typeof exp === 'number' ? ` on ${formatDateTime(new Date(exp * 1000).toISOString())}` : '';
      throw new ReviewError('link_expired', `This review link expired${when}, when the review period ended.`, { cause });
    }
    throw new ReviewError('link_invalid', 'This review link is not valid.', { cause });
  }
}
