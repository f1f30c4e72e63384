import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stateless DPoP server nonces (RFC 9449 section 8): `<window>.<MAC of the window>`, where a window is `lifetimeSeconds`
 * long. A nonce is accepted in its own window and the next, so it lives between one and two lifetimes, and a client
 * cannot make proofs for a window that has not begun. Every instance that holds one of the MAC keys issues and accepts
 * the same nonces, without a table read or write.
 */
export interface DpopNonces {
  /** A nonce for now. */
  issue(now: Date): Promise<string>;
  /** Whether `nonce` is one this server issued and still accepts. */
  accepts(nonce: unknown, now: Date): Promise<boolean>;
}

const LABEL = 'gatehouse dpop-nonce v1';

function mac(key: Uint8Array, window: number): Buffer {
  return createHmac('sha256', key).update(`${LABEL}:${window}`).digest().subarray(0, 16);
}

/**
 * Nonces MACed with the first of `keys()` and checked against all of them (so a key rotation, picked up by instances at
 * slightly different times, does not turn valid nonces away).
 */
export function dpopNonces(keys: () => Promise<readonly Uint8Array[]>, lifetimeSeconds: number): DpopNonces {
  const windowOf = (now: Date) => Math.floor(now.getTime() / 1000 / lifetimeSeconds);
  return {
    async issue(now) {
      const window = windowOf(now);
      const [key] = await keys();
      return `${window}.${mac(key!, window).toString('base64url')}`;
    },
    async accepts(nonce, now) {
      if (typeof nonce !== 'string' || nonce.length > 64) return false;
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
      if (!match) return false;
      const window = Number(match[1]);
      const current = windowOf(now);
      if (window !== current && window !== current - 1) return false;
      const presented = Buffer.from(match[2]!, 'base64url');
      return (await keys()).some((key) => timingSafeEqual(mac(key, window), presented));
    },
  };
}
