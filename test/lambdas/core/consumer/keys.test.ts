import { describe, expect, it } from 'vitest';
import { acceptedKeys, isSigningKey, retireKeys } from '../../../../lambdas/core/consumer/keys.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const HOUR = 3_600_000;
const A = { kty: 'EC', crv: 'P-256', x: 'ax', y: 'ay', kid: 'a' };
const B = { kty: 'EC', crv: 'P-256', x: 'bx', y: 'by', kid: 'b' };
const C = { kty: 'OKP', crv: 'Ed25519', x: 'cx', kid: 'c' };
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR);

describe('retireKeys and acceptedKeys (private_key_jwt key rollover)', () => {
  it('keeps a removed key accepted for the grace window, and no longer', () => {
    const consumer = { jwks: { keys: [A] } };
    const retiredKeys = retireKeys(consumer, [B], NOW, 24);
    expect(retiredKeys).toEqual([{ key: A, until: at(24).toISOString() }]);
    const after = { jwks: { keys: [B] }, retiredKeys };
    expect(acceptedKeys(after, at(23.9))).toEqual([B, A]);
    expect(acceptedKeys(after, at(24))).toEqual([B]);
  });

  it('keeps the end of a key already retired, and drops one registered again or past its end', () => {
    const consumer = {
      jwks: { keys: [B] },
      retiredKeys: [
        { key: A, until: at(5).toISOString() },
        { key: C, until: at(-1).toISOString() },
      ],
    };
    expect(retireKeys(consumer, [C], NOW, 24)).toEqual([
      { key: A, until: at(5).toISOString() },
      { key: B, until: at(24).toISOString() },
    ]);
    expect(retireKeys(consumer, [A, B], NOW, 24)).toBeUndefined();
  });

  it('retires nothing with a zero grace window', () => {
    expect(retireKeys({ jwks: { keys: [A] } }, [B], NOW, 0)).toBeUndefined();
  });

  it('does not retire a key re-sent under another kid', () => {
    expect(retireKeys({ jwks: { keys: [A] } }, [{ ...A, kid: 'a2' }], NOW, 24)).toBeUndefined();
  });

  it('counts only keys that may verify signatures as usable', () => {
    expect(isSigningKey(A)).toBe(true);
    expect(isSigningKey({ ...A, use: 'sig', key_ops: ['verify'] })).toBe(true);
    expect(isSigningKey({ ...A, use: 'enc' })).toBe(false);
    expect(isSigningKey({ ...A, key_ops: ['encrypt'] })).toBe(false);
  });
});
