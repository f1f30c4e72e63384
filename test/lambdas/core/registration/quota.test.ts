import { describe, expect, it } from 'vitest';
import { RegistrationQuotaError } from '../../../../lambdas/core/registration/errors.js';
import { chargeAnonymousRegistration, quotaSubject, type RegistrationQuota } from '../../../../lambdas/core/registration/quota.js';

/** A quota in memory with the port's contract: count unless the limit is reached. */
function memoryQuota() {
  const counts = new Map<string, number>();
  const calls: Array<{ subject: string; window: string; limit: number; expiresAtEpoch: number }> = [];
  const quota: RegistrationQuota = {
    async take(subject, window, limit, expiresAtEpoch) {
      calls.push({ subject, window, limit, expiresAtEpoch });
      const key = `${window}#${subject}`;
      const n = counts.get(key) ?? 0;
      if (n >= limit) return false;
      counts.set(key, n + 1);
      return true;
    },
  };
  return { quota, calls };
}

describe('quotaSubject', () => {
  it('counts an IPv4 address written as IPv6 as the IPv4 address', () => {
    expect(quotaSubject('::ffff:198.51.100.7')).toBe(quotaSubject('198.51.100.7'));
  });

  it('counts every address of one IPv6 /64 as one caller, however it is written', () => {
    const subject = quotaSubject('2001:db8:1:2::1');
    expect(quotaSubject('2001:0db8:0001:0002:ffff:1:2:3')).toBe(subject);
    expect(quotaSubject('2001:DB8:1:2:aaaa::')).toBe(subject);
    expect(quotaSubject('2001:db8:1:3::1')).not.toBe(subject);
  });

  it('tells IPv4 callers apart and keeps no address in the subject', () => {
    expect(quotaSubject('198.51.100.7')).not.toBe(quotaSubject('198.51.100.8'));
    expect(quotaSubject('198.51.100.7')).not.toContain('198');
  });

  it('puts callers without an address in one shared bucket', () => {
    expect(quotaSubject(undefined)).toBe(quotaSubject(''));
  });
});

describe('chargeAnonymousRegistration', () => {
  const NOON = new Date('2031-05-06T12:00:00.000Z');

  it('counts in the UTC day and keeps the counter a day past it', async () => {
    const { quota, calls } = memoryQuota();

    await chargeAnonymousRegistration(quota, 2, '198.51.100.7', NOON);

    expect(calls).toEqual([
      { subject: quotaSubject('198.51.100.7'), window: '2031-05-06', limit: 2, expiresAtEpoch: Date.parse('2031-05-08T00:00:00Z') / 1000 },
    ]);
  });

  it('refuses past the limit with the seconds until the day ends', async () => {
    const { quota } = memoryQuota();
    await chargeAnonymousRegistration(quota, 2, '198.51.100.7', NOON);
    await chargeAnonymousRegistration(quota, 2, '198.51.100.7', NOON);

    const error = await chargeAnonymousRegistration(quota, 2, '198.51.100.7', NOON).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RegistrationQuotaError);
    expect(error).toMatchObject({ code: 'registration_quota_exceeded', limit: 2, retryAfterSeconds: 12 * 3600 });
  });

  it('starts afresh the next UTC day', async () => {
    const { quota } = memoryQuota();
    await chargeAnonymousRegistration(quota, 1, '198.51.100.7', NOON);

    await expect(chargeAnonymousRegistration(quota, 1, '198.51.100.7', new Date('2031-05-07T00:00:00.000Z'))).resolves.toBeUndefined();
  });
});
