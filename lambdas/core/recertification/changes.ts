import type { Actor } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { revoke, type RevokeServices } from '../lifecycle/sweep.js';
import { RecertificationError } from './errors.js';

/**
 * The consumer fields that drop `scopes` from its grant (a change that only lowers risk, so it applies at once). Thin on
 * purpose: it is what an RFC 7592 update removing scopes writes too, and can be pointed at that shared code.
 */
export function scopeDropSet(consumer: Pick<Consumer, 'scopes' | 'usedScopes'>, scopes: readonly string[]): Pick<Consumer, 'scopes' | 'usedScopes'> {
  const unknown = scopes.filter((s) => !consumer.scopes.includes(s));
  if (unknown.length > 0) throw new RecertificationError('invalid_choice', `Not granted to this consumer: ${unknown.join(', ')}.`);
  const drop = new Set(scopes);
  const remaining = consumer.scopes.filter((s) => !drop.has(s));
  if (remaining.length === 0) {
    throw new RecertificationError('invalid_choice', 'Dropping every scope leaves nothing to attest; deregister the consumer instead.');
  }
  return { scopes: remaining, usedScopes: consumer.usedScopes?.filter((s) => !drop.has(s)) };
}

/** Self-deregistration: revoked at once, with the effects of any revocation (tokens refused, listed, secret deleted, contacts told). */
export async function deregister(services: RevokeServices, consumer: Consumer, actor: Actor, detail: string): Promise<boolean> {
  return revoke(services, consumer, 'deregistered', detail, actor);
}
