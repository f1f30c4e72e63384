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
  | 'unsupported_token_type';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_token: 401,
  invalid_dpop_proof: 400,
  unsupported_token_type: 400,
};

/** An OAuth protocol error; rendered as `{ error, error_description }` with the status RFC 6749 gives. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly code: OAuthErrorCode;
  readonly status: number;
  /** The authentication scheme the client tried, echoed in WWW-Authenticate on 401. */
  readonly challenge: 'Basic' | 'Bearer' | undefined;

  /** `challenge: null` sends no WWW-Authenticate (a client that did not use the Authorization header). */
  constructor(code: OAuthErrorCode, description: string, options?: { cause?: unknown; challenge?: 'Basic' | 'Bearer' | null }) {
    super(description, options);
    this.code = code;
    this.status = STATUS[code];
    this.challenge =
      options?.challenge === null ? undefined : (options?.challenge ?? (code === 'invalid_token' ? 'Bearer' : code === 'invalid_client' ? 'Basic' : undefined));
  }
}
