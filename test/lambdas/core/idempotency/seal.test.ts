import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEY_PATTERN, idempotencyKeyHash, openResponse, sealResponse } from '../../../../lambdas/core/idempotency/seal.js';

const KEY = 'c0ffee00-1111-4222-8333-444455556666';
const BODY = { client_id: 'gh_x', client_secret: 'very-secret-value', nested: { list: [1, 'two', null] } };

describe('sealResponse / openResponse', () => {
  it('round-trips a response body under the same key', () => {
    expect(openResponse(KEY, sealResponse(KEY, BODY))).toEqual(BODY);
  });

  it('hides the body: the sealed text contains none of it', () => {
    const sealed = sealResponse(KEY, BODY);

    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('very-secret-value');
  });

  it('uses a fresh IV, so equal bodies seal differently', () => {
    expect(sealResponse(KEY, BODY)).not.toBe(sealResponse(KEY, BODY));
  });

  it('refuses to open with another key', () => {
    const sealed = sealResponse(KEY, BODY);

    expect(() => openResponse('c0ffee00-1111-4222-8333-444455556667', sealed)).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const raw = Buffer.from(sealResponse(KEY, BODY), 'base64url');
    raw[14] = raw[14]! ^ 0x01;

    expect(() => openResponse(KEY, raw.toString('base64url'))).toThrow();
  });
});

describe('idempotencyKeyHash', () => {
  it('is a stable SHA-256 hex digest that does not contain the key', () => {
    const hash = idempotencyKeyHash(KEY);

    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(idempotencyKeyHash(KEY)).toBe(hash);
    expect(idempotencyKeyHash(`${KEY}x`)).not.toBe(hash);
    expect(hash).not.toContain(KEY);
  });
});

describe('IDEMPOTENCY_KEY_PATTERN', () => {
  it.each([KEY, 'a'.repeat(16), 'A.b_c:d-e0123456789', 'k'.repeat(255)])('accepts %s', (key) => {
    expect(IDEMPOTENCY_KEY_PATTERN.test(key)).toBe(true);
  });

  it.each(['', 'a'.repeat(15), 'k'.repeat(256), 'has spaces in the key', 'slash/is/not/allowed', 'ünïcödé-key-0000000'])('refuses %j', (key) => {
    expect(IDEMPOTENCY_KEY_PATTERN.test(key)).toBe(false);
  });
});
