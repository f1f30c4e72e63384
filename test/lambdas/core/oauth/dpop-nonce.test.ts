import { describe, expect, it } from 'vitest';
import { dpopNonces } from '../../../../lambdas/core/oauth/dpop-nonce.js';

const KEY_A = new Uint8Array(32).fill(1);
const KEY_B = new Uint8Array(32).fill(2);
const T0 = new Date('2031-05-06T12:00:00.000Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('dpopNonces', () => {
  const nonces = dpopNonces(async () => [KEY_A], 300);

  it('accepts its own nonce in its window and the next, and not after', async () => {
    const nonce = await nonces.issue(T0);

    expect(await nonces.accepts(nonce, T0)).toBe(true);
    expect(await nonces.accepts(nonce, later(299))).toBe(true);
    expect(await nonces.accepts(nonce, later(300))).toBe(true);
    expect(await nonces.accepts(nonce, later(600))).toBe(false);
  });

  it('refuses a nonce for a window that has not begun, even correctly MACed', async () => {
    const future = await nonces.issue(later(300));

    expect(await nonces.accepts(future, T0)).toBe(false);
  });

  it('refuses a nonce MACed with another key, a tampered one and anything that is not a nonce', async () => {
    const foreign = await dpopNonces(async () => [KEY_B], 300).issue(T0);
    const nonce = await nonces.issue(T0);
    const [window] = nonce.split('.');

    for (const bad of [foreign, `${window}.${'A'.repeat(22)}`, `${Number(window) - 1}.${nonce.split('.')[1]}`, '', 42, undefined, 'x'.repeat(1000)]) {
      expect(await nonces.accepts(bad, T0)).toBe(false);
    }
  });

  it('accepts nonces MACed with any of its keys, so instances mid-rotation agree', async () => {
    const old = await dpopNonces(async () => [KEY_A], 300).issue(T0);
    const rotated = dpopNonces(async () => [KEY_B, KEY_A], 300);

    expect(await rotated.accepts(old, T0)).toBe(true);
  });
});
