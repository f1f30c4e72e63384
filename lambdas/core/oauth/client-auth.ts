import { assertedClientId, CLIENT_ASSERTION_TYPE } from './client-assertion.js';
import { OAuthError } from './errors.js';

/** The credentials a client presented, and how. */
export type PresentedCredentials =
  | { readonly method: 'client_secret_basic' | 'client_secret_post'; readonly clientId: string; readonly secret: string }
  | { readonly method: 'private_key_jwt'; readonly clientId: string; readonly assertion: string };

function formDecode(value: string): string {
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * Extracts client credentials from the Authorization header or the form body (RFC 6749 §2.3.1, RFC 7523 §2.2),
 * refusing ambiguity: exactly one method per request.
 */
export function presentedCredentials(authorization: string | undefined, form: URLSearchParams): PresentedCredentials {
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  const assertion = form.get('client_assertion') ?? undefined;
  const assertionType = form.get('client_assertion_type') ?? undefined;
  // `Basic` with nothing after it (header values arrive trimmed) is still an attempt at Basic, answered as one.
  const basic = authorization !== undefined && /^basic(\s|$)/i.test(authorization);

  if (assertion !== undefined || assertionType !== undefined) {
    if (basic || bodySecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    const refuse = (description: string) => new OAuthError('invalid_client', description, { challenge: 'private_key_jwt' });
    if (assertionType !== CLIENT_ASSERTION_TYPE) throw refuse(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
    if (!assertion) throw refuse('client_assertion is empty.');
    let clientId: string;
    try {
      clientId = assertedClientId(assertion);
    } catch (error) {
      throw error instanceof OAuthError ? error.withChallenge('private_key_jwt') : error;
    }
    if (bodyId !== undefined && bodyId !== clientId) throw refuse('client_id differs from the assertion issuer.');
    return { method: 'private_key_jwt', clientId, assertion };
  }
  if (basic) {
    if (bodySecret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method, not two.');
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new OAuthError('invalid_client', 'Malformed Basic credentials.', { challenge: 'Basic' });
    let clientId: string;
    let secret: string;
    try {
      clientId = formDecode(decoded.slice(0, colon));
      secret = formDecode(decoded.slice(colon + 1));
    } catch (cause) {
      throw new OAuthError('invalid_client', 'Malformed Basic credentials.', { cause, challenge: 'Basic' });
    }
    if (bodyId !== undefined && bodyId !== clientId) throw new OAuthError('invalid_request', 'client_id in the body differs from the authenticated client.');
    return { method: 'client_secret_basic', clientId, secret };
  }
  if (bodyId !== undefined && bodySecret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  throw new OAuthError('invalid_client', 'Client authentication is required (private_key_jwt, client_secret_basic or client_secret_post).');
}
