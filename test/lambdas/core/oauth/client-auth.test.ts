import { describe, expect, it } from 'vitest';
import { presentedCredentials } from '../../../../lambdas/core/oauth/client-auth.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';

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
      expect(presentedCredentials(`Basic ${b64('gh_abc:a:b')}`, form()).secret).toBe('a:b');
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
      expect(error.status).toBe(401);
      expect(error.challenge).toBe('Basic');
    });

    it('refuses a second method in the body as invalid_request', () => {
      const error = refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_id: 'gh_abc', client_secret: 's' })));

      expect(error.code).toBe('invalid_request');
      expect(error.status).toBe(400);
    });

    it('refuses a different client_id in the body as invalid_request', () => {
      expect(refusal(() => presentedCredentials(`Basic ${b64('gh_abc:s')}`, form({ client_id: 'gh_xyz' }))).code).toBe('invalid_request');
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

  it('refuses private_key_jwt assertions, which are not supported yet', () => {
    const body = form({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c' });

    expect(refusal(() => presentedCredentials(undefined, body)).code).toBe('invalid_client');
  });
});
