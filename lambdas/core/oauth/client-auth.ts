import type { AuthMethod } from '../policy/schema.js';
import { OAuthError } from './errors.js';

/** The credentials a client presented, and how. */
export interface PresentedCredentials {
  readonly method: AuthMethod;
  readonly clientId: string;
  readonly secret: string;
}

function formDecode(value: string): string {
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Extracts client credentials from the Authorization header or the form body (RFC 6749 §2.3.1), refusing ambiguity. */
export function presentedCredentials(authorization: string | undefined, form: URLSearchParams): PresentedCredentials {
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  if (form.has('client_assertion') || form.has('client_assertion_type')) {
    throw new OAuthError('invalid_client', 'private_key_jwt client authentication is not supported by this server yet.');
  }
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    let decoded: string;
    try {
      decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    } catch (cause) {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials.', { cause });
    }
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new OAuthError('invalid_client', 'Malformed Basic credentials.');
    let clientId: string;
    let secret: string;
    try {
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch (cause) {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials.', { cause });
    }
    if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id in the body differs from the authenticated client.');
    return { method: 'client_secret_basic', clientId, secret };
  }
  if (bodyId !== undefined && bodySecret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  throw new OAuthError('invalid_client', 'Client authentication is required (client_secret_basic or client_secret_post).');
}
