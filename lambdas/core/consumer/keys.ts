import { canonicalJson } from '../util/canonical-json.js';
import type { Consumer, PublicJwk, RetiredKey } from './consumer.js';

/** How long a key removed by an update stays accepted when the policy does not say. */
export const DEFAULT_KEY_ROLLOVER_GRACE_HOURS = 24;

/** The RFC 7638 members that identify a public key: two JWKs with the same ones are the same key, whatever their kid. */
const IDENTITY_MEMBERS: Readonly<Record<string, readonly string[]>> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** A stable identity of a public key (its RFC 7638 thumbprint input). */
export function keyIdentity(jwk: PublicJwk): string {
  const members = IDENTITY_MEMBERS[jwk.kty] ?? Object.keys(jwk).sort();
  return canonicalJson(Object.fromEntries(members.map((m) => [m, jwk[m] ?? null])));
}

/** Whether a key may verify a client assertion: not reserved for encryption, and `verify` among its operations if it lists any. */
export function isSigningKey(jwk: PublicJwk): boolean {
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return false;
  const ops = jwk['key_ops'];
  return !Array.isArray(ops) || ops.includes('verify');
}

/** The keys a client assertion of this consumer may be signed with at `now`: its registered keys and those still in their rollover grace. */
export function acceptedKeys(consumer: Pick<Consumer, 'jwks' | 'retiredKeys'>, now: Date): PublicJwk[] {
  const current = consumer.jwks?.keys ?? [];
  const retired = (consumer.retiredKeys ?? []).filter((r) => Date.parse(r.until) > now.getTime()).map((r) => r.key);
  return [...current, ...retired];
}

/**
 * The retired keys after replacing the consumer's keys with `next`: a key dropped now is accepted for `graceHours` more;
 * one already retired keeps its end; one registered again, or past its end, leaves the list.
 */
export function retireKeys(
  consumer: Pick<Consumer, 'jwks' | 'retiredKeys'>,
  next: readonly PublicJwk[] | undefined,
  now: Date,
  graceHours: number,
): RetiredKey[] | undefined {
  const kept = new Set((next ?? []).map(keyIdentity));
  const until = new Date(now.getTime() + graceHours * 3_600_000).toISOString();
  const out = new Map<string, RetiredKey>();
  for (const r of consumer.retiredKeys ?? []) {
    const id = keyIdentity(r.key);
    if (!kept.has(id) && Date.parse(r.until) > now.getTime()) out.set(id, r);
  }
  if (graceHours > 0) {
    for (const key of consumer.jwks?.keys ?? []) {
      const id = keyIdentity(key);
      if (!kept.has(id) && !out.has(id)) out.set(id, { key, until });
    }
  }
  return out.size === 0 ? undefined : [...out.values()];
}
