import { signLink, verifyLink, type LinkPurpose } from '../links/signed-link.js';
import type { Clock, Vault } from '../ports.js';
import { linkKeyOverlapMs } from '../review/link-token.js';
import { previousOverlapMs, SigningKeyCache } from '../tokens/signing-keys.js';
import { formatDateTime } from '../review/format.js';
import type { LoadedPolicy } from '../policy/load.js';
import { RecertificationError } from './errors.js';

/**
 * Its own `typ` and audience, so an attestation link never passes for a review link (`gatehouse-review+jwt`, audience
 * `/reviews`) or an access token, nor the reverse.
 */
const ATTESTATION_LINK: LinkPurpose = { typ: 'gatehouse-recertification+jwt', audiencePath: '/recertifications', binding: 'cid' };
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
  return signLink(keys, issuer, ATTESTATION_LINK, { bound: claims.clientId, subject: claims.contact, linkId: claims.linkId }, expiresAt, now);
}

/** Verifies an attestation link for the consumer in the URL; throws RecertificationError `link_expired` or `link_invalid`. */
export async function verifyAttestationLink(keys: SigningKeyCache, issuer: string, token: string, clientId: string, now: Date): Promise<AttestationLinkClaims> {
  const claims = await verifyLink(keys, issuer, ATTESTATION_LINK, token, clientId, now, (refusal) => {
    switch (refusal.reason) {
      case 'expired': {
        const when = refusal.expiredAt ? ` on ${formatDateTime(refusal.expiredAt.toISOString())}` : '';
        return new RecertificationError('link_expired', `This attestation link expired${when}.`, { cause: refusal.cause });
      }
      case 'other_binding':
        return new RecertificationError('link_invalid', 'This link is for another consumer.');
      case 'invalid':
        return new RecertificationError('link_invalid', 'This attestation link is not valid.', { cause: refusal.cause });
    }
  });
  return { clientId, contact: claims.subject, linkId: claims.linkId };
}
