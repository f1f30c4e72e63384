import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sha256Hex } from '../util/hash.js';

const INFO = 'gatehouse/idempotent-response/v1';

function keyFrom(idempotencyKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', idempotencyKey, 'gatehouse', INFO, 32));
}

/** Where a stored response lives: the SHA-256 of the key, so the key itself is never stored. */
export function idempotencyKeyHash(idempotencyKey: string): string {
  return sha256Hex(`idempotency:${idempotencyKey}`);
}

/**
 * Encrypts a response body under a key derived from the Idempotency-Key.
 * The stored copy of a response that carries a client secret is useless to anyone who does not hold the caller's key.
 */
export function sealResponse(idempotencyKey: string, body: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFrom(idempotencyKey), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, data, cipher.getAuthTag()]).toString('base64url');
}

/** Decrypts a sealed response; throws if the key is not the one it was sealed with. */
export function openResponse(idempotencyKey: string, sealed: string): unknown {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(idempotencyKey), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  return JSON.parse(text) as unknown;
}

/** Idempotency keys must carry enough entropy to protect the sealed response (a UUID does). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{16,255}$/;
