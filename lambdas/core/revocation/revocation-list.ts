import type { ConsumerStatus } from '../consumer/consumer.js';
import { longestAccessTokenTtlSeconds, type TokenLifetimePolicy } from '../tokens/lifetime.js';

/** A revoked access token (RFC 7009): refused by its `jti` until its `exp` (epoch seconds), after which it is dead anyway. */
export interface RevokedToken {
  readonly jti: string;
  readonly exp: number;
}

/**
 * A consumer whose access ended (suspended, revoked, expired): resource servers refuse every token it was issued at or
 * before `since` (epoch seconds). Listed until `until`, when every such token has expired.
 */
export interface RevokedConsumer {
  readonly clientId: string;
  readonly status: ConsumerStatus;
  readonly since: number;
  readonly until: number;
}

/** What is no longer valid although its signature and `exp` still hold. */
export interface Revocations {
  readonly tokens: readonly RevokedToken[];
  readonly consumers: readonly RevokedConsumer[];
}

/**
 * The revocation list port: one partition of the registry table, read whole by the function that publishes it to
 * resource servers. Consumers are added in the transaction that ends their access (ConsumerChange.revocation).
 */
export interface RevocationList {
  /** Lists a revoked token until its `exp`; idempotent. */
  recordTokenRevocation(token: RevokedToken): Promise<void>;
  /** Every entry still in force at `now` (expired ones that TTL has not yet removed are left out). */
  listRevocations(now: Date): Promise<Revocations>;
}

/** Statuses that end a consumer's access: reaching one lists the consumer. */
export const ACCESS_ENDING_STATUSES: readonly ConsumerStatus[] = ['suspended', 'revoked', 'expired'];

/** Clock difference allowed between Gatehouse and resource servers beyond a token's lifetime. */
const SKEW_SECONDS = 300;

/**
 * The list entry of a consumer whose access ends at `at`. `since` adds the token endpoint's consumer cache: a warm
 * instance may still issue tokens from its cached record for that long, and those must be refused too.
 */
export function consumerRevocation(
  clientId: string,
  status: ConsumerStatus,
  at: Date,
  config: { readonly consumerCacheMs: number },
  policy: TokenLifetimePolicy,
): RevokedConsumer {
  const since = Math.ceil((at.getTime() + config.consumerCacheMs) / 1000);
  return { clientId, status, since, until: since + longestAccessTokenTtlSeconds(policy) + SKEW_SECONDS };
}
