import type { ActiveException, Consumer } from '../consumer/consumer.js';
import type { RiskRequirements } from '../policy/schema.js';

/** Exceptions of a consumer still in force at `now` (the sweep removes ended ones; this also covers a late sweep). */
export function activeExceptions(consumer: Pick<Consumer, 'exceptions'>, now: Date): ActiveException[] {
  return (consumer.exceptions ?? []).filter((e) => Date.parse(e.expiresAt) > now.getTime());
}

/**
 * The requirements a consumer is held to at `now`: its risk's requirements with each active exception applied. Only the
 * one requirement an exception names changes. A client that registered with `dpop_bound_access_tokens` needs DPoP.
 */
export function effectiveRequirements(consumer: Pick<Consumer, 'requirements' | 'exceptions' | 'dpopBoundAccessTokens'>, now: Date): RiskRequirements {
  const active = activeExceptions(consumer, now);
  if (active.length === 0 && consumer.dpopBoundAccessTokens !== true) return consumer.requirements;
  const r = { ...consumer.requirements };
  for (const e of active) {
    switch (e.rule) {
      case 'auth_method':
        if (!r.authMethods.includes(e.value)) r.authMethods = [...r.authMethods, e.value];
        break;
      case 'sender_constraint':
        r.senderConstraint = e.value;
        break;
      case 'dormancy_days':
        r.dormancyDays = Math.max(r.dormancyDays, e.value);
        break;
      case 'access_token_ttl_seconds':
        r.accessTokenTtlSeconds = Math.max(r.accessTokenTtlSeconds, e.value);
        break;
    }
  }
  if (consumer.dpopBoundAccessTokens === true) r.senderConstraint = 'dpop';
  return r;
}
