export type HttpErrorCode =
  'payload_too_large' | 'unsupported_media_type' | 'malformed_body' | 'invalid_request' | 'unauthorized' | 'not_found' | 'method_not_allowed';

/**
 * A transport-level refusal at the edge, before any protocol is involved; rendered as RFC 9457 problem JSON, or as
 * RFC 7591 error JSON on registration routes.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  /** The WWW-Authenticate challenge of an `unauthorized` refusal (RFC 9110 section 11.6.1). @default Bearer */
  readonly challenge: string | undefined;

  constructor(code: HttpErrorCode, message: string, options?: { cause?: unknown; challenge?: string }) {
    super(message, options);
    this.code = code;
    this.challenge = options?.challenge;
  }
}
