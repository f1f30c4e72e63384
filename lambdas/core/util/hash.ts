import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('hex');
}

/** base64url SHA-256 of a UTF-8 string. */
export function sha256B64u(input: string): string {
  return createHash('sha256').update(input, 'utf8').digest('base64url');
}

/** A URL-safe random string with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Compares a presented high-entropy secret with its stored SHA-256 in constant time.
 * A fast hash is right here: the secrets are 256-bit random values, so there is nothing to brute-force.
 */
export function secretMatchesHash(presented: string, storedHashB64u: string): boolean {
  const a = Buffer.from(sha256B64u(presented), 'utf8');
  const b = Buffer.from(storedHashB64u, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
