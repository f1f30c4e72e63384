import { createHmac } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock, PublicSigningKey, PublicSigningKeySet, SigningKeySet, Vault } from '../ports.js';
import { longestAccessTokenTtlSeconds } from './lifetime.js';

export const SIGNING_ALG = 'ES256';

const parseTime = (iso: string | undefined): number => (iso === undefined ? Number.NEGATIVE_INFINITY : Date.parse(iso));

export interface SigningKeyCacheOptions {
  /** How long a vault read is reused. @default 5 minutes */
  readonly maxAgeMs?: number;
  /**
   * How long the previous key stays published after the current one starts signing: at least the longest access-token
   * lifetime, so every token it signed can still be verified. @default 1 hour 5 minutes
   */
  readonly previousOverlapMs?: number;
}

/**
 * Reads signing keys from the vault through a short cache, so the token path makes no vault call per request, and
 * applies the rotation rules: a key signs only from its `activatesAt` (until then the previous key signs), and the
 * previous key stays in JWKS until every token it signed has expired. A rotation is picked up within `maxAgeMs`.
 */
export class SigningKeyCache {
  readonly #vault: Vault;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #overlapMs: number;
  readonly #imported = new Map<string, CryptoKey>();
  readonly #private: CachedRead<SigningKeySet>;
  readonly #public: CachedRead<PublicSigningKeySet>;

  constructor(vault: Vault, clock: Clock, options: number | SigningKeyCacheOptions = {}) {
    const o = typeof options === 'number' ? { maxAgeMs: options } : options;
    this.#vault = vault;
    this.#clock = clock;
    this.#maxAgeMs = o.maxAgeMs ?? 5 * 60_000;
    this.#overlapMs = o.previousOverlapMs ?? 65 * 60_000;
    this.#private = new CachedRead(() => this.#vault.getSigningKeys());
    this.#public = new CachedRead(() => this.#vault.getPublicKeys());
  }

  /** The key that signs now, with its `kid`. */
  async current(): Promise<{ kid: string; key: CryptoKey }> {
    const set = await this.#private.get(this.#clock.now().getTime(), this.#maxAgeMs);
    const now = this.#clock.now().getTime();
    const signer = parseTime(set.current.activatesAt) > now && set.previous ? set.previous : set.current;
    let key = this.#imported.get(signer.kid);
    if (!key) {
      key = (await importJWK({ ...(signer.privateJwk as JWK), alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey;
      this.#imported.clear(); // keep only live keys
      this.#imported.set(signer.kid, key);
    }
    return { kid: signer.kid, key };
  }

  /**
   * The JWKS to publish: current and pending keys, and the previous key while tokens it signed may still be alive. Read
   * from the public halves only (Vault.getPublicKeys), so a function that only verifies never needs a private key.
   */
  async jwks(): Promise<{ keys: JWK[] }> {
    const at = this.#clock.now().getTime();
    // A function that signs has the private set at hand (its public halves are the same keys); one that only verifies reads the public halves.
    const set = await (this.#private.fresh(at, this.#maxAgeMs) ?? this.#public.get(at, this.#maxAgeMs));
    const now = this.#clock.now().getTime();
    const previousRetired = set.previous !== undefined && now >= parseTime(set.current.activatesAt) + this.#overlapMs;
    const seen = new Set<string>();
    const keys: JWK[] = [];
    const publish = (k: PublicSigningKey) => {
      if (seen.has(k.kid)) return;
      seen.add(k.kid);
      // Only the public EC members are published, whatever else the stored JWK carries.
      const { kty, crv, x, y } = k.publicJwk as JWK;
      keys.push({ kty, crv, x, y, kid: k.kid, alg: SIGNING_ALG, use: 'sig' });
    };
    publish(set.current);
    for (const k of set.published) if (!(previousRetired && k.kid === set.previous?.kid)) publish(k);
    return { keys };
  }

  /**
   * Keys for MACs only this server can make (such as DPoP nonces), derived from the private signing keys: the current
   * key's first, then the pending and previous ones', so every instance derives the same keys whichever one it loaded.
   */
  async macKeys(label: string): Promise<Uint8Array[]> {
    const set = await this.#private.get(this.#clock.now().getTime(), this.#maxAgeMs);
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    for (const k of [set.current, set.pending, set.previous, ...set.published]) {
      if (k === undefined || seen.has(k.kid)) continue;
      seen.add(k.kid);
      const d = (k.privateJwk as JWK).d;
      if (typeof d === 'string') out.push(createHmac('sha256', Buffer.from(d, 'base64url')).update(label).digest());
    }
    return out;
  }
}

/** One vault read at a time, however many requests arrive while it runs, reused for `maxAgeMs`. */
class CachedRead<T> {
  readonly #read: () => Promise<T>;
  #loaded: { at: number; value: T } | undefined;
  #loading: Promise<T> | undefined;

  constructor(read: () => Promise<T>) {
    this.#read = read;
  }

  /** The value if it is fresh or being read now, without starting a read. */
  fresh(now: number, maxAgeMs: number): Promise<T> | undefined {
    if (this.#loaded && now - this.#loaded.at < maxAgeMs) return Promise.resolve(this.#loaded.value);
    return this.#loading;
  }

  get(now: number, maxAgeMs: number): Promise<T> {
    const fresh = this.fresh(now, maxAgeMs);
    if (fresh) return fresh;
    this.#loading = (async () => {
      try {
        const value = await this.#read();
        this.#loaded = { at: now, value };
        return value;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }
}

/** How long a previous key stays published: the policy's longest access-token lifetime plus 5 minutes of skew. */
export function previousOverlapMs(policy: { readonly document: { readonly risks: Record<string, { readonly accessTokenTtlSeconds: number }> } }): number {
  return (longestAccessTokenTtlSeconds(policy) + 300) * 1000;
}

/** A key cache for a deployment: the previous key outlives the longest access-token lifetime the policy grants. */
export function signingKeysFor(
  services: {
    readonly vault: Vault;
    readonly clock: Clock;
    readonly policy: { readonly document: { readonly risks: Record<string, { readonly accessTokenTtlSeconds: number }> } };
  },
  maxAgeMs?: number,
): SigningKeyCache {
  return new SigningKeyCache(services.vault, services.clock, {
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    previousOverlapMs: previousOverlapMs(services.policy),
  });
}
