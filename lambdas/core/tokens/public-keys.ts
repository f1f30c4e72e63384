import type { PublicKeyStore, PublicSigningKey, PublicSigningKeySet, SigningKey, SigningKeySet, StagedSecret, Vault } from '../ports.js';
import { hasPrivateMembers } from '../util/jwk.js';
import { StagedSecretVault } from './staged-vault.js';

const publicHalf = (k: SigningKey | PublicSigningKey): PublicSigningKey => ({
  kid: k.kid,
  publicJwk: k.publicJwk,
  ...(k.activatesAt !== undefined ? { activatesAt: k.activatesAt } : {}),
});

/** The public halves of a key set; nothing private survives, whatever the input carries. */
export function publicKeySet(set: SigningKeySet | PublicSigningKeySet): PublicSigningKeySet {
  return {
    current: publicHalf(set.current),
    published: set.published.map(publicHalf),
    ...(set.previous ? { previous: publicHalf(set.previous) } : {}),
  };
}

function parseKey(value: unknown): PublicSigningKey {
  const k = value as Partial<PublicSigningKey> & { privateJwk?: unknown };
  if (typeof k !== 'object' || k === null || typeof k.kid !== 'string' || typeof k.publicJwk !== 'object' || k.publicJwk === null) {
    throw new Error('not a published signing-key set: a key lacks kid or publicJwk');
  }
  if (k.privateJwk !== undefined || hasPrivateMembers(k.publicJwk)) throw new Error('not a published signing-key set: it holds private key material');
  if (k.activatesAt !== undefined && (typeof k.activatesAt !== 'string' || Number.isNaN(Date.parse(k.activatesAt)))) {
    throw new Error('not a published signing-key set: activatesAt is not a date');
  }
  return publicHalf(k as PublicSigningKey);
}

/** Parses the published document; refuses one that is malformed or carries private members. */
export function parsePublicKeySet(text: string): PublicSigningKeySet {
  const value = JSON.parse(text) as { current?: unknown; published?: unknown; previous?: unknown };
  if (!Array.isArray(value.published)) throw new Error('not a published signing-key set: published is not a list');
  return {
    current: parseKey(value.current),
    published: value.published.map(parseKey),
    ...(value.previous !== undefined ? { previous: parseKey(value.previous) } : {}),
  };
}

/** Writes the public halves of the staged secret's keys to the public store (idempotent: it always mirrors the secret). */
export async function publishPublicKeys(secret: StagedSecret, store: PublicKeyStore): Promise<PublicSigningKeySet> {
  const set = publicKeySet(await new StagedSecretVault(secret).getSigningKeys());
  await store.write(JSON.stringify(set));
  return set;
}

/**
 * The Vault of a function that only verifies: it reads the published public halves and cannot reach a private key, so
 * `getSigningKeys` is a bug, reported loudly.
 */
export class PublishedKeysVault implements Vault {
  readonly #store: PublicKeyStore;

  constructor(store: PublicKeyStore) {
    this.#store = store;
  }

  getSigningKeys(): Promise<SigningKeySet> {
    return Promise.reject(new Error('This function only verifies (signing-key:read-public): it holds no private signing key.'));
  }

  async getPublicKeys(): Promise<PublicSigningKeySet> {
    const text = await this.#store.read();
    if (text === undefined) throw new Error('The public signing-key set has not been published yet');
    return parsePublicKeySet(text);
  }
}

/** A Vault over a private key set that derives the public halves from it (for callers that may read the private set anyway). */
export function vaultOver<F extends () => Promise<SigningKeySet>>(getSigningKeys: F): Vault & { readonly getSigningKeys: F } {
  return { getSigningKeys, getPublicKeys: async () => publicKeySet(await getSigningKeys()) };
}
