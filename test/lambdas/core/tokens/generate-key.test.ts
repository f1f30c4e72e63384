import { describe, expect, it } from 'vitest';
import { generateSigningKey, parseSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';

describe('generateSigningKey', () => {
  it('makes an ES256 pair with a random kid on both halves', async () => {
    const [k1, k2] = await Promise.all([generateSigningKey(), generateSigningKey()]);

    expect(k1.kid).not.toBe(k2.kid);
    expect(k1.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: k1.kid, d: expect.any(String) });
    expect(k1.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: k1.kid });
    expect(k1.publicJwk).not.toHaveProperty('d');
  });
});

describe('parseSigningKey', () => {
  it('round-trips a stored key', async () => {
    const key = await generateSigningKey();

    expect(parseSigningKey(JSON.stringify(key))).toEqual(key);
  });

  it.each([
    ['not JSON', 'placeholder-0x8#'],
    ['JSON without a kid', '{"privateJwk":{},"publicJwk":{}}'],
    ['JSON without the public key', '{"kid":"k","privateJwk":{}}'],
    ['JSON with a null key', '{"kid":"k","privateJwk":null,"publicJwk":{}}'],
  ])('refuses %s', (_name, text) => {
    expect(() => parseSigningKey(text)).toThrow();
  });
});
