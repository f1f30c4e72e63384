import type { RemoteKeySets } from '../ports/remote-key-sets.js';
import { DEFAULT_KEY_SET_AGE_SECONDS, RemoteKeySetCache } from '../remote-jwks/cache.js';
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
  /** Key sets of clients registered with a `jwks_uri`; without it, such clients cannot authenticate here. */
  readonly remoteKeys?: RemoteKeySetCache | undefined;
}

/** Ports the OAuth endpoints take besides Services. */
export interface OAuthPorts {
  /** Fetches clients' published key sets (`jwks_uri`). */
  readonly remoteKeySets?: RemoteKeySets | undefined;
}

/** Builds the caches once per handler instance. */
export function createOAuthDeps(services: Needs<'getConsumer', 'vault'>, ports: OAuthPorts = {}): OAuthDeps {
  const keys = signingKeysFor(services);
  const dpop = services.policy.document.dpop;
  return {
    consumers: new ConsumerCache(services.consumers, services.clock, services.config.consumerCacheMs),
    keys,
    dpopNonces: dpop?.serverNonce ? dpopNonces(() => keys.macKeys('dpop-nonce'), dpop.nonceLifetimeSeconds) : undefined,
    remoteKeys:
      ports.remoteKeySets === undefined
        ? undefined
        : new RemoteKeySetCache(
            ports.remoteKeySets,
            services.clock,
            services.policy.document.clientAssertions.jwksUriMaxAgeSeconds ?? DEFAULT_KEY_SET_AGE_SECONDS,
          ),
  };
}
