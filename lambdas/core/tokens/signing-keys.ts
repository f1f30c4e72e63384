import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock, SigningKeySet, Vault } from '../ports.js';

export const SIGNING_ALG = 'ES256';

/**
 * Reads signing keys from the vault through a short cache, so the token path makes no vault call per request.
 * A rotation is picked up within `maxAgeMs`.
 */
export class SigningKeyCache {
  readonly #vault: Vault;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  #loaded: { at: number; set: SigningKeySet; key: CryptoKey } | undefined;
  #loading: Promise<{ at: number; set: SigningKeySet; key: CryptoKey }> | undefined;

  constructor(vault: Vault, clock: Clock, maxAgeMs = 5 * 60_000) {
    this.#vault = vault;
    this.#clock = clock;
    this.#maxAgeMs = maxAgeMs;
  }

  /** The key that signs now, with its `kid`. */
  async current(): Promise<{ kid: string; key: CryptoKey }> {
    const loaded = await this.#load();
    return { kid: loaded.set.current.kid, key: loaded.key };
  }

  /** The JWKS to publish: the current key and every other key the vault still publishes. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const { set } = await this.#load();
    const seen = new Set<string>();
    const keys: JWK[] = [];
    for (const k of [set.current, ...set.published]) {
      if (seen.has(k.kid)) continue;
      seen.add(k.kid);
      keys.push({ ...(k.publicJwk as JWK), kid: k.kid, alg: SIGNING_ALG, use: 'sig' });
    }
    return { keys };
  }

  async #load(): Promise<{ at: number; set: SigningKeySet; key: CryptoKey }> {
    const now = this.#clock.now().getTime();
    if (this.#loaded && now - this.#loaded.at < this.#maxAgeMs) return this.#loaded;
    // One vault read at a time, however many requests arrive while it runs.
    this.#loading ??= (async () => {
      try {
        const set = await this.#vault.getSigningKeys();
        const key = (await importJWK({ ...(set.current.privateJwk as JWK), alg: SIGNING_ALG }, SIGNING_ALG)) as CryptoKey;
        this.#loaded = { at: now, set, key };
        return this.#loaded;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }
}
