import { routePath } from '../../contracts/routes.js';
import { SignJWT, type CryptoKey } from 'jose';
import { SIGNING_ALG } from '../tokens/signing-keys.js';
import type { Revocations } from './revocation-list.js';

/** Its own `typ`, so the document can never pass for an access token, a review link or the reverse. */
export const REVOCATION_LIST_TYP = 'revocation-list+jwt';

/** Where the document is served under the issuer. */
export const REVOCATION_LIST_PATH = routePath('getRevocationList');

/** The RFC 8414 metadata member (Gatehouse's own) that names the document's URL. */
export const REVOCATION_LIST_METADATA = 'gatehouse_revocation_list_uri';

/**
 * How long a served document may be reused, in seconds: the publishing function's memory and `Cache-Control: max-age`
 * together never serve one built longer ago than this.
 */
export const REVOCATION_LIST_MAX_AGE_SECONDS = 15;

/**
 * How long a document is valid (`exp` - `iat`): the most a verifier that cannot refresh may rely on it, whatever its own
 * staleness setting says.
 */
export const REVOCATION_LIST_LIFETIME_SECONDS = 600;

/** The document's claims (besides `iss`, `iat`, `exp`). */
export interface RevocationListClaims {
  /** Refuse tokens with this `jti`; `exp` is the token's, after which the entry goes. */
  readonly revoked_tokens: ReadonlyArray<{ readonly jti: string; readonly exp: number }>;
  /** Refuse tokens of this `client_id` whose `iat` is at or before `since` (epoch seconds). */
  readonly revoked_clients: ReadonlyArray<{ readonly client_id: string; readonly status: string; readonly since: number }>;
}

/** Signs the revocation document: a JWT with the token key, `typ: revocation-list+jwt`, valid for REVOCATION_LIST_LIFETIME_SECONDS. */
export async function signRevocationList(
  key: { readonly kid: string; readonly key: CryptoKey },
  issuer: string,
  revocations: Revocations,
  now: Date,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const claims: RevocationListClaims = {
    revoked_tokens: revocations.tokens.map((t) => ({ jti: t.jti, exp: t.exp })),
    revoked_clients: revocations.consumers.map((c) => ({ client_id: c.clientId, status: c.status, since: c.since })),
  };
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: REVOCATION_LIST_TYP, kid: key.kid })
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + REVOCATION_LIST_LIFETIME_SECONDS)
    .sign(key.key);
}
