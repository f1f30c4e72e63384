import { describe, expect, it } from 'vitest';
import { presentedCredentials, type PresentedCredentials } from '../../../../lambdas/core/oauth/client-auth.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { JWT_BEARER, unsignedJwt } from './fixtures.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const form = (init: Record<string, string> = {}) => new URLSearchParams({ grant_type: 'client_credentials', ...init });

function refusal(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }
  throw new Error('expected an OAuthError');
}

/** The secret of secret-based credentials; fails the test for any other method. */
function secretOf(credentials: PresentedCredentials): string {
  if (credentials.method === 'private_key_jwt') throw new Error(`expected a client secret, got ${credentials.method}`);
  return credentials.secret;
}

describe('presentedCredentials', () => {
  describe('client_secret_basic', () => {
    it('reads the client id and secret from the Authorization header', () => {
      expect(presentedCredentials(`Basic ${b64('gh_abc:s3cret')}`, form())).toEqual({
        method: 'client_secret_basic',
        clientId: 'gh_abc',
        secret: 's3cret',
      });
    });

    it('form-decodes id and secret before use (RFC 6749 §2.3.1)', () => {
      const id = 'client id:with/odd+chars';
      const secret = 'se:cr et+%/é';
      const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');

      expect(presentedCredentials(`Basic ${b64(`${encode(id)}:${encode(secret)}`)}`, form())).toEqual({
        method: 'client_secret_basic',
        clientId: id,
        secret,
      });
    });

    it('splits at the first colon, so an unencoded colon stays in the secret', () => {
      expect(secretOf(presentedCredentials(`Basic ${b64('gh_abc:a:b')}`, form()))).toBe('a:b');
    });

    it('accepts the scheme name in any case', () => {
      expect(presentedCredentials(`bAsIc ${b64('gh_abc:s')}`, form()).clientId).toBe('gh_abc');
    });

    it('accepts a matching client_id in the body', () => {
      expect(presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_id: 'gh_abc' })).method).toBe('client_secret_basic');
    });

    it.each([
      ['no colon', b64('gh_abc')],
      ['an empty client id', b64(':secret')],
      ['bad percent-encoding', b64('gh_%zz:secret')],
      ['nothing at all', ''],
    ])('refuses malformed credentials with %s as invalid_client', (_name, credentials) => {
      const error = refusal(() => presentedCredentials(`Basic ${credentials}`, form()));

      expect(error.code).toBe('invalid_client');
      expect(error.challenge).toBe('Basic');
    });

    it('refuses a second method in the body as invalid_request', () => {
      const error = refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_id: 'gh_abc', client_secret: 's' })));

      expect(error.code).toBe('invalid_request');
    });

    it('refuses a different client_id in the body as invalid_request', () => {
      expect(refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_id: 'gh_xyz' }))).code).toBe('invalid_request');
    });

    it('treats a bare "Basic" (the header value arrives trimmed) as a Basic attempt, not as no header', () => {
      expect(refusal(() => presentedCredentials('Basic', form()))).toMatchObject({ code: 'invalid_client', challenge: 'Basic' });
      // Found by fuzzing: with client_secret_post credentials too, it is two methods, not a silent client_secret_post.
      expect(refusal(() => presentedCredentials('Basic', form({ client_id: 'gh_abc', client_secret: 's' })))).toMatchObject({
        code: 'invalid_request',
      });
    });
  });

  describe('client_secret_post', () => {
    it('reads client_id and client_secret from the body', () => {
      expect(presentedCredentials(undefined, form({ client_id: 'gh_abc', client_secret: 's3cret' }))).toEqual({
        method: 'client_secret_post',
        clientId: 'gh_abc',
        secret: 's3cret',
      });
    });

    it('ignores an Authorization header of another scheme', () => {
      expect(presentedCredentials('Bearer xyz', form({ client_id: 'gh_abc', client_secret: 's' })).method).toBe('client_secret_post');
    });
  });

  it.each([
    ['nothing', undefined, form()],
    ['only a client_id', undefined, form({ client_id: 'gh_abc' })],
    ['only a client_secret', undefined, form({ client_secret: 's' })],
  ])('refuses %s as invalid_client', (_name, authorization, body) => {
    expect(refusal(() => presentedCredentials(authorization, body)).code).toBe('invalid_client');
  });

  describe('private_key_jwt', () => {
    // presentedCredentials only reads the issuer; verification is verifyClientAssertion's job.
    const assertion = unsignedJwt({ iss: 'gh_abc', sub: 'gh_abc' });
    const withAssertion = (init: Record<string, string> = {}) => form({ client_assertion_type: JWT_BEARER, client_assertion: assertion, ...init });

    it('reads the client id from the assertion issuer', () => {
      expect(presentedCredentials(undefined, withAssertion())).toEqual({ method: 'private_key_jwt', clientId: 'gh_abc', assertion });
    });

    it('accepts a client_id that equals the assertion issuer', () => {
      expect(presentedCredentials(undefined, withAssertion({ client_id: 'gh_abc' }))).toMatchObject({ method: 'private_key_jwt', clientId: 'gh_abc' });
    });

    it('ignores an Authorization header of another scheme', () => {
      expect(presentedCredentials('Bearer xyz', withAssertion()).method).toBe('private_key_jwt');
    });

    it('refuses a client_id that differs from the assertion issuer as invalid_client', () => {
      const error = refusal(() => presentedCredentials(undefined, withAssertion({ client_id: 'gh_xyz' })));

      expect(error).toMatchObject({ code: 'invalid_client' });
    });

    it('refuses another assertion type as invalid_client', () => {
      const body = withAssertion({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' });

      expect(refusal(() => presentedCredentials(undefined, body))).toMatchObject({ code: 'invalid_client' });
    });

    it('refuses an assertion without its type as invalid_client', () => {
      const body = withAssertion();
      body.delete('client_assertion_type');

      expect(refusal(() => presentedCredentials(undefined, body))).toMatchObject({ code: 'invalid_client' });
    });

    it.each([
      ['a client_id other than the issuer', withAssertion({ client_id: 'gh_xyz' })],
      ['another assertion type', withAssertion({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' })],
      ['an assertion that is not a JWT', form({ client_assertion_type: JWT_BEARER, client_assertion: 'not-a-jwt' })],
      ['an empty assertion', form({ client_assertion_type: JWT_BEARER, client_assertion: '' })],
    ])('challenges %s with private_key_jwt, not Basic', (_name, body) => {
      expect(refusal(() => presentedCredentials(undefined, body))).toMatchObject({ code: 'invalid_client', challenge: 'private_key_jwt' });
    });

    it('refuses an assertion type without an assertion as invalid_client', () => {
      expect(refusal(() => presentedCredentials(undefined, form({ client_assertion_type: JWT_BEARER }))).code).toBe('invalid_client');
    });

    it('refuses an empty assertion as invalid_client', () => {
      expect(refusal(() => presentedCredentials(undefined, withAssertion({ client_assertion: '' }))).code).toBe('invalid_client');
    });

    it.each([
      ['is not a JWT', 'a.b.c'],
      ['has no issuer', unsignedJwt({ sub: 'gh_abc' })],
    ])('refuses an assertion that %s as invalid_client', (_name, text) => {
      expect(refusal(() => presentedCredentials(undefined, withAssertion({ client_assertion: text }))).code).toBe('invalid_client');
    });

    it('refuses an assertion together with Basic credentials as invalid_request', () => {
      const error = refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, withAssertion()));

      expect(error).toMatchObject({ code: 'invalid_request' });
    });

    it('refuses an assertion together with a client_secret as invalid_request', () => {
      const error = refusal(() => presentedCredentials(undefined, withAssertion({ client_id: 'gh_abc', client_secret: 's' })));

      expect(error).toMatchObject({ code: 'invalid_request' });
    });

    it('refuses a lone assertion type next to Basic credentials as invalid_request', () => {
      expect(refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_assertion_type: JWT_BEARER }))).code).toBe('invalid_request');
    });
  });
});
