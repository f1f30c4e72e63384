import { sha256B64u } from '../util/hash.js';
import { RegistrationQuotaError } from './errors.js';

/**
 * Counts anonymous registrations per caller and per window. One atomic, conditional step: two registrations racing for
 * the last unit cannot both get it.
 */
export interface RegistrationQuota {
  /**
   * Counts one registration for `subject` in the window `window` (kept until `expiresAtEpoch`); false, counting nothing,
   * when `limit` registrations are already counted there.
   */
  take(subject: string, window: string, limit: number, expiresAtEpoch: number): Promise<boolean>;
}

const DAY_MS = 86_400_000;

/**
 * Who a quota counts: an IPv4 address, or an IPv6 address's /64 (one customer's network: a caller holding a /64 would
 * otherwise have 2^64 fresh quotas). IPv4 written as IPv6 (`::ffff:a.b.c.d`, as Node reports it on a dual-stack socket)
 * counts as the IPv4 address. The subject is hashed, so the table holds no address.
 */
export function quotaSubject(sourceIp: string | undefined): string {
  const ip = (sourceIp ?? '').trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  let subject = mapped ? mapped[1]! : ip;
  if (!mapped && subject.includes(':')) subject = ipv6Prefix64(subject) ?? subject;
  // A request without an address (never from API Gateway) shares one bucket, so it cannot escape the quota.
  return sha256B64u(`ip:${subject || 'unknown'}`);
}

/** The first four groups of an IPv6 address, expanded; undefined when it is not one. */
function ipv6Prefix64(ip: string): string | undefined {
  const [head = '', tail, ...more] = ip.split('%')[0]!.split('::');
  if (more.length > 0) return undefined;
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length < 4 || !groups.slice(0, 4).every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':');
}

/**
 * Counts one anonymous registration from `sourceIp` against the policy's daily quota (UTC days), or refuses with
 * RegistrationQuotaError, which says when the next day starts.
 */
export async function chargeAnonymousRegistration(quota: RegistrationQuota, limit: number, sourceIp: string | undefined, now: Date): Promise<void> {
  const dayStart = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const nextDay = dayStart + DAY_MS;
  const window = new Date(dayStart).toISOString().slice(0, 10);
  // Kept a day past its window, so a late TTL deletion never meets a window still in use.
  if (await quota.take(quotaSubject(sourceIp), window, limit, Math.floor((nextDay + DAY_MS) / 1000))) return;
  throw new RegistrationQuotaError(limit, Math.max(1, Math.ceil((nextDay - now.getTime()) / 1000)));
}
