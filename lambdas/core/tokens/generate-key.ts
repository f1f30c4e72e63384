import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { SigningKey } from '../ports.js';
import { hasPrivateMembers } from '../util/jwk.js';
import { SIGNING_ALG } from './signing-keys.js';

/** A fresh extractable ES256 key pair in JWK form, with a random `kid`; `activatesAt` delays its first signature. */
export async function generateSigningKey(activatesAt?: Date): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid },
    publicJwk: { ...(await exportJWK(publicKey)), kid },
    ...(activatesAt ? { activatesAt: activatesAt.toISOString() } : {}),
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a signing key stored as JSON (the vault's format); throws if it is not one. */
export function parseSigningKey(text: string): SigningKey {
  const value = JSON.parse(text) as Partial<SigningKey>;
  if (typeof value.kid !== 'string' || typeof value.privateJwk !== 'object' || typeof value.publicJwk !== 'object' || !value.privateJwk || !value.publicJwk) {
    throw new Error('not a Gatehouse signing key');
  }
  if (
    value.activatesAt !== undefined &&
    (typeof value.activatesAt !== 'string' || !ISO_INSTANT.test(value.activatesAt) || Number.isNaN(Date.parse(value.activatesAt)))
  ) {
    throw new Error('not a Gatehouse signing key: activatesAt is not an ISO 8601 instant');
  }
  if (hasPrivateMembers(value.publicJwk)) throw new Error('not a Gatehouse signing key: publicJwk holds private members');
  return {
    kid: value.kid,
    privateJwk: value.privateJwk,
    publicJwk: value.publicJwk,
    ...(value.activatesAt !== undefined ? { activatesAt: value.activatesAt } : {}),
  };
}
