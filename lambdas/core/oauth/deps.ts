import type { Needs } from '../services.js';
import { signingKeysFor, type SigningKeyCache } from '../tokens/signing-keys.js';
import { ConsumerCache } from './consumer-cache.js';
import { dpopNonces, type DpopNonces } from './dpop-nonce.js';

/** The per-instance caches every OAuth endpoint keeps: consumer records and signing keys. */
export interface OAuthDeps {
  readonly consumers: ConsumerCache;
  readonly keys: SigningKeyCache;
  /** DPoP server nonces, when the policy requires them. */
  readonly dpopNonces?: DpopNonces | undefined;
}

/** Builds the caches once per handler instance. */
export function createOAuthDeps(services: Needs<'getConsumer', 'vault'>): OAuthDeps {
  const keys = signingKeysFor(services);
  const dpop = services.policy.document.dpop;
  return {
    consumers: new ConsumerCache(services.consumers, services.clock, services.config.consumerCacheMs),
    keys,
    dpopNonces: dpop?.serverNonce ? dpopNonces(() => keys.macKeys('dpop-nonce'), dpop.nonceLifetimeSeconds) : undefined,
  };
}
