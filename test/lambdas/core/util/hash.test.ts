import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../../lambdas/core/util/canonical-json.js';
import { randomToken, secretMatchesHash, sha256B64u, sha256Hex } from '../../../../lambdas/core/util/hash.js';

describe('sha256Hex / sha256B64u', () => {
  it('digests UTF-8 text', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256B64u('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('secretMatchesHash', () => {
  it('matches the secret whose hash is stored, and nothing else', () => {
    const stored = sha256B64u('s3cret');

    expect(secretMatchesHash('s3cret', stored)).toBe(true);
    expect(secretMatchesHash('s3cret ', stored)).toBe(false);
    expect(secretMatchesHash('', stored)).toBe(false);
    expect(secretMatchesHash('s3cret', 'short')).toBe(false);
  });
});

describe('randomToken', () => {
  it('gives URL-safe tokens of the requested entropy', () => {
    const token = randomToken();

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(token);
    expect(randomToken(12)).toHaveLength(16);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('drops undefined members, as a DynamoDB round trip does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
  });
});
