import { describe, expect, it } from 'vitest';
import { RemoteKeySetError } from '../../../../lambdas/core/remote-jwks/errors.js';
import { parseRemoteKeySet } from '../../../../lambdas/core/remote-jwks/key-set.js';

const EC = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tie-7DxcZSxMrUsUE_BCgT0MZp_8', kid: 'sig-1' };

function refused(body: unknown): RemoteKeySetError {
  try {
    parseRemoteKeySet(body);
  } catch (error) {
    expect(error).toBeInstanceOf(RemoteKeySetError);
    expect((error as RemoteKeySetError).code).toBe('not_a_key_set');
    return error as RemoteKeySetError;
  }
  throw new Error('accepted');
}

describe('parseRemoteKeySet', () => {
  it('keeps the signing keys and leaves out encryption keys', () => {
    const enc = { kty: 'RSA', n: 'n', e: 'AQAB', use: 'enc', kid: 'enc-1' };
    expect(parseRemoteKeySet({ keys: [EC, enc] })).toEqual({ keys: [EC] });
  });

  it.each([
    [
      'an EC private key',
      { ...EC, d: 'secret' },
      'the key set publishes private key material (keys[1], kid "sig-1"): publish public keys only, and replace that key',
    ],
    ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, 'the key set publishes private key material (keys[1]): publish public keys only, and replace that key'],
    [
      'an RSA key with primes',
      { kty: 'RSA', n: 'n', e: 'AQAB', p: 'p', q: 'q' },
      'the key set publishes private key material (keys[1]): publish public keys only, and replace that key',
    ],
  ])('refuses the whole set when it holds %s', (_what, key, message) => {
    expect(refused({ keys: [EC, key] }).message).toBe(message);
  });

  it.each([
    ['an array', [EC], 'the document is not a usable JSON Web Key Set: expected a JSON object with "keys"'],
    ['keys that are not a list', { keys: EC }, 'the document is not a usable JSON Web Key Set: "keys" is not an array'],
    ['no signing key', { keys: [] }, 'the document is not a usable JSON Web Key Set: it holds no signing key'],
    ['an unknown key type', { keys: [{ kty: 'XYZ' }] }, 'the document is not a usable JSON Web Key Set: keys[0]: kty must be EC, RSA or OKP'],
    [
      'a kid that is not a string',
      { keys: [{ ...EC, kid: 7 }] },
      'the document is not a usable JSON Web Key Set: keys[0]: kid must be a string of 1 to 200 characters',
    ],
    [
      'a member that is an object',
      { keys: [{ ...EC, x5c: { nested: true } }] },
      'the document is not a usable JSON Web Key Set: keys[0]: member "x5c" is not a string, boolean or short list of strings',
    ],
    ['too many keys', { keys: Array.from({ length: 51 }, () => EC) }, 'the document is not a usable JSON Web Key Set: it holds 51 keys, more than 50'],
  ])('refuses %s', (_what, body, message) => {
    expect(refused(body).message).toBe(message);
  });
});
