import { GatehouseError } from '../errors.js';

/** RFC 6749 §5.2 token endpoint error codes (and RFC 6750 for bearer-protected endpoints). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'unsupported_token_type'
  /** RFC 6749 §4.1.2.1's code for "try again shortly", answered 503 with Retry-After. */
  | 'temporarily_unavailable';

/**
 * The WWW-Authenticate challenge a 401 answers with (RFC 9110 section 11.6.1: every 401 carries one), matching how the
 * client tried to authenticate:
 * - `Basic`: client_secret_basic, the one client authentication that is an HTTP scheme (RFC 6749 section 2.3.1).
 * - `private_key_jwt` / `client_secret_post`: the client authenticated in the form body, which no HTTP scheme describes.
 *   The challenge names the OAuth client authentication method it used (IANA "OAuth Token Endpoint Authentication
 *   Methods") as an extension scheme: RFC 6749 section 5.2 asks for a challenge only when the Authorization header was
 *   used, but a Basic challenge would tell a key-bound client to send a password. Clients ignore schemes they do not know.
 * - `client`: no credentials at all; every method the endpoint takes is offered.
 * - `Bearer`: a bearer-protected endpoint (RFC 6750 section 3), here RFC 7592's registration access token.
 * - `bearer_absent`: the same endpoint called without any token: RFC 6750 section 3.1 asks for no error code then.
 */
export type Challenge = 'Basic' | 'private_key_jwt' | 'client_secret_post' | 'client' | 'Bearer' | 'bearer_absent';

/**
 * The one description for every client that has not proven it holds its credential, whether its id exists or not, so
 * the answer cannot tell a caller which client ids exist.
 */
export const CLIENT_AUTHENTICATION_FAILED = 'Client authentication failed.';

/** An OAuth protocol error; rendered as `{ error, error_description }` with the status RFC 6749 gives. */
export class OAuthError extends GatehouseError<OAuthErrorCode> {
  override readonly name = 'OAuthError';
  /** The challenge sent in WWW-Authenticate on 401 (see Challenge). */
  readonly challenge: Challenge | undefined;
  /**
   * Raised before the caller proved it holds the client's key: a client endpoint answers it with
   * CLIENT_AUTHENTICATION_FAILED, as for an unknown id, and keeps the message for its log.
   */
  readonly beforeProof: boolean;
  /** A DPoP nonce to send in the `DPoP-Nonce` header (RFC 9449 section 8), with `use_dpop_nonce`. */
  readonly dpopNonce: string | undefined;
  /** Seconds to send in Retry-After, with `temporarily_unavailable`. */
  readonly retryAfterSeconds: number | undefined;

  /** `challenge` defaults to `Bearer` for invalid_token and to `client` (every method) for invalid_client. */
  constructor(
    code: OAuthErrorCode,
    description: string,
    options?: { cause?: unknown; challenge?: Challenge; beforeProof?: boolean; dpopNonce?: string; retryAfterSeconds?: number },
  ) {
    super(code, description, options);
    this.challenge = options?.challenge ?? (code === 'invalid_token' ? 'Bearer' : code === 'invalid_client' ? 'client' : undefined);
    this.beforeProof = options?.beforeProof ?? false;
    this.dpopNonce = options?.dpopNonce;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  /** The same refusal answered with another challenge (the method the client used is known only once it is parsed). */
  withChallenge(challenge: Challenge): OAuthError {
    return new OAuthError(this.code, this.message, { cause: this.cause, challenge, beforeProof: this.beforeProof });
  }
}
