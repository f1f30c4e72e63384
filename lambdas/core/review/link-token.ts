import type { Clock, Vault } from '../ports.js';
import { signLink, verifyLink, type LinkPurpose } from '../links/signed-link.js';
import { previousOverlapMs, SigningKeyCache } from '../tokens/signing-keys.js';
import { ReviewError } from './errors.js';
import { formatDateTime } from './format.js';

/** Its own `typ` and audience, so a review link can never pass for an access token or an attestation link, nor the reverse. */
const REVIEW_LINK: LinkPurpose = { typ: 'gatehouse-review+jwt', audiencePath: '/reviews', binding: 'rid' };

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
  return signLink(keys, issuer, REVIEW_LINK, { bound: claims.reviewId, subject: claims.reviewer, linkId: claims.linkId }, expiresAt, now);
}

/**
 * Verifies a link token for the review in the URL (with keys from reviewLinkKeysFor); throws ReviewError `link_expired`
 * or `link_invalid`.
 */
export async function verifyReviewLink(keys: SigningKeyCache, issuer: string, token: string, reviewId: string, now: Date): Promise<ReviewLinkClaims> {
  const claims = await verifyLink(keys, issuer, REVIEW_LINK, token, reviewId, now, (refusal) => {
    switch (refusal.reason) {
      case 'expired': {
        // The link expires with its round's deadline, so its `exp` says when the review period ended.
        const when = refusal.expiredAt ? ` on ${formatDateTime(refusal.expiredAt.toISOString())}` : '';
        return new ReviewError('link_expired', `This review link expired${when}, when the review period ended.`, { cause: refusal.cause });
      }
      case 'other_binding':
        return new ReviewError('link_invalid', 'This link is for another review.');
      case 'invalid':
        return new ReviewError('link_invalid', 'This review link is not valid.', { cause: refusal.cause });
    }
  });
  return { reviewId, reviewer: claims.subject, linkId: claims.linkId };
}
