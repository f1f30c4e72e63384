import { ASYMMETRIC_ALGS } from '../core/oauth/client-assertion.js';

/** `temporarily_unavailable` (503): the token could not be checked against a fresh enough revocation list (fail closed). */
export type AccessErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'temporarily_unavailable';

/** Why a resource server refuses a request (RFC 6750 §3.1, RFC 9449 §7.1); carries the WWW-Authenticate challenge to send. */
export class AccessError extends Error {
  override readonly name = 'AccessError';
  readonly code: AccessErrorCode;
  readonly status: 400 | 401 | 403 | 503;
  readonly wwwAuthenticate: string;

  constructor(code: AccessErrorCode, description: string, options: { scheme: 'Bearer' | 'DPoP'; requiredScopes?: readonly string[]; cause?: unknown }) {
    super(description, { cause: options.cause });
    this.code = code;
    this.status = code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : code === 'temporarily_unavailable' ? 503 : 401;
    const params = [`realm="api"`, `error="${code}"`, `error_description="${description.replace(/["\\]/g, '')}"`];
    if (code === 'insufficient_scope' && options.requiredScopes?.length) params.push(`scope="${options.requiredScopes.join(' ')}"`);
    if (options.scheme === 'DPoP') params.push(`algs="${ASYMMETRIC_ALGS.join(' ')}"`);
    this.wwwAuthenticate = `${options.scheme} ${params.join(', ')}`;
  }
}
