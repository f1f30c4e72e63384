import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { ServiceError } from '../errors.js';
import { SIGNING_ALG, type SigningKeyCache } from '../tokens/signing-keys.js';

/**
 * What a kind of emailed link is for. Each kind has its own `typ` and audience, so a link of one kind never passes for
 * another, or for an access token, nor the reverse; `binding` names the claim that ties it to the thing in the URL.
 */
export interface LinkPurpose {
  readonly typ: string;
  /** The audience, under the issuer (`/reviews`, `/recertifications`). */
  readonly audiencePath: string;
  readonly binding: string;
}

export interface LinkClaims {
  /** What the link is bound to (a review id, a client id). */
  readonly bound: string;
  /** The person it was sent to. */
  readonly subject: string;
  /** Its single-use id. */
  readonly linkId: string;
}

/** Signs a link with the current signing key, expiring at `expiresAt`. */
export async function signLink(keys: SigningKeyCache, issuer: string, purpose: LinkPurpose, claims: LinkClaims, expiresAt: Date, now: Date): Promise<string> {
  const key = await keys.current();
  return new SignJWT({ [purpose.binding]: claims.bound })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: purpose.typ, kid: key.kid })
    .setIssuer(issuer)
    .setAudience(`${issuer}${purpose.audiencePath}`)
    .setSubject(claims.subject)
    .setJti(claims.linkId)
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(key.key);
}

/** Why a link was refused: expired (with when, if it says), bound to something else, or not valid at all. */
export type LinkRefusal =
  | { readonly reason: 'expired'; readonly expiredAt: Date | undefined; readonly cause: unknown }
  | { readonly reason: 'other_binding' }
  | { readonly reason: 'invalid'; readonly cause: unknown };

/**
 * Verifies a link for `bound` (the id in the URL). A vault outage is a ServiceError (503), not a bad link; a refused
 * link is returned to the caller's `refuse`, which says it in the words of its page.
 */
export async function verifyLink(
  keys: SigningKeyCache,
  issuer: string,
  purpose: LinkPurpose,
  token: string,
  bound: string,
  now: Date,
  refuse: (refusal: LinkRefusal) => Error,
): Promise<LinkClaims> {
  let jwks: ReturnType<typeof createLocalJWKSet>;
  try {
    jwks = createLocalJWKSet(await keys.jwks());
  } catch (cause) {
    throw new ServiceError('dependency_unavailable', 'The signing keys cannot be read right now; try the link again shortly.', {
      cause,
      retryAfterSeconds: 10,
    });
  }
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer,
      audience: `${issuer}${purpose.audiencePath}`,
      typ: purpose.typ,
      algorithms: [SIGNING_ALG],
      currentDate: now,
      requiredClaims: ['sub', 'jti', 'exp', purpose.binding],
    }));
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_JWT_EXPIRED') {
      const exp = (cause as { payload?: { exp?: unknown } }).payload?.exp;
      throw refuse({ reason: 'expired', expiredAt: typeof exp === 'number' ? new Date(exp * 1000) : undefined, cause });
    }
    throw refuse({ reason: 'invalid', cause });
  }
  if (payload[purpose.binding] !== bound) throw refuse({ reason: 'other_binding' });
  return { bound, subject: String(payload.sub), linkId: String(payload.jti) };
}
