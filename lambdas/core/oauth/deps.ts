import type { Needs } from '../services.js';
import { signingKeysFor, type SigningKeyCache } from '../tokens/signing-keys.js';
import { ConsumerCache } from './consumer-cache.js';

/** The per-instance caches every OAuth endpoint keeps: consumer records and signing keys. */
export interface OAuthDeps {
  readonly consumers: ConsumerCache;
  readonly keys: SigningKeyCache;
}

/** Builds the caches once per handler instance. */
export function createOAuthDeps(services: Needs<'getConsumer', 'vault'>): OAuthDeps {
  return {
    consumers: new ConsumerCache(services.consumers, services.clock, services.config.consumerCacheMs),
    keys: signingKeysFor(services),
  };
}
