import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { SigningKey } from '../ports.js';
import { SIGNING_ALG } from './signing-keys.js';

/** A fresh extractable ES256 key pair in JWK form, with a random `kid`. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomUUID();
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid }, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

/** Parses a signing key stored as JSON (the vault's format); throws if it is not one. */
export function parseSigningKey(text: string): SigningKey {
  const value = JSON.parse(text) as Partial<SigningKey>;
  if (typeof value.kid !== 'string' || typeof value.privateJwk !== 'object' || typeof value.publicJwk !== 'object' || !value.privateJwk || !value.publicJwk) {
    throw new Error('not a Gatehouse signing key');
  }
  return { kid: value.kid, privateJwk: value.privateJwk, publicJwk: value.publicJwk };
}
