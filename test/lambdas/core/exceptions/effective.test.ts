import { describe, expect, it } from 'vitest';
import type { ActiveException } from '../../../../lambdas/core/consumer/consumer.js';
import { activeExceptions, effectiveRequirements } from '../../../../lambdas/core/exceptions/effective.js';
import { ExceptionGrantSchema } from '../../../../lambdas/core/exceptions/rules.js';
import { consumerFixture, DAY_MS, defaultPolicy, NOW } from '../../fixtures.js';

const high = defaultPolicy.document.risks.high;
const exception = (grant: Pick<ActiveException, 'rule' | 'value'>, days = 1): ActiveException =>
  ({
    ...grant,
    exceptionId: `exc-${grant.rule}`,
    grantedAt: NOW.toISOString(),
    expiresAt: new Date(NOW.getTime() + days * DAY_MS).toISOString(),
    approvers: ['a@bank.example'],
  }) as ActiveException;

describe('effectiveRequirements', () => {
  it('is the risk’s requirements when no exception is in force', () => {
    expect(effectiveRequirements(consumerFixture({ requirements: high }), NOW)).toBe(high);
  });

  it('changes exactly the one requirement each exception names', () => {
    const cases: Array<[Pick<ActiveException, 'rule' | 'value'>, Partial<typeof high>]> = [
      [{ rule: 'sender_constraint', value: 'none' }, { senderConstraint: 'none' }],
      [{ rule: 'dormancy_days', value: 120 }, { dormancyDays: 120 }],
      [{ rule: 'access_token_ttl_seconds', value: 900 }, { accessTokenTtlSeconds: 900 }],
      [{ rule: 'auth_method', value: 'client_secret_basic' }, { authMethods: ['private_key_jwt', 'client_secret_basic'] }],
    ];
    for (const [grant, changed] of cases) {
      expect(effectiveRequirements(consumerFixture({ requirements: high, exceptions: [exception(grant)] }), NOW)).toEqual({ ...high, ...changed });
    }
  });

  it('never makes a requirement stricter than the policy’s', () => {
    const low = defaultPolicy.document.risks.low;
    const c = consumerFixture({
      requirements: low,
      exceptions: [exception({ rule: 'dormancy_days', value: 10 }), exception({ rule: 'access_token_ttl_seconds', value: 60 })],
    });
    expect(effectiveRequirements(c, NOW)).toEqual(low);
  });

  it('ignores an exception past its end even before the sweep removes it', () => {
    const c = consumerFixture({ requirements: high, exceptions: [exception({ rule: 'sender_constraint', value: 'none' }, 1)] });
    expect(activeExceptions(c, new Date(NOW.getTime() + DAY_MS))).toEqual([]);
    expect(effectiveRequirements(c, new Date(NOW.getTime() + DAY_MS)).senderConstraint).toBe('dpop');
  });
  it('holds a client that registered for DPoP-bound tokens to DPoP, whatever its risk or exceptions', () => {
    const low = defaultPolicy.document.risks.low;
    expect(low.senderConstraint).toBe('none');
    expect(effectiveRequirements(consumerFixture({ requirements: low, dpopBoundAccessTokens: true }), NOW)).toEqual({ ...low, senderConstraint: 'dpop' });
    const lifted = consumerFixture({ requirements: high, dpopBoundAccessTokens: true, exceptions: [exception({ rule: 'sender_constraint', value: 'none' })] });
    expect(effectiveRequirements(lifted, NOW).senderConstraint).toBe('dpop');
  });
});

describe('ExceptionGrantSchema', () => {
  it.each([
    [{ rule: 'auth_method', value: 'private_key_jwt' }],
    [{ rule: 'sender_constraint', value: 'dpop' }],
    [{ rule: 'dormancy_days', value: 0 }],
    [{ rule: 'access_token_ttl_seconds', value: 86_401 }],
    [{ rule: 'dormancy_days', value: '30' }],
    [{ rule: 'max_grant_days', value: 30 }],
  ])('refuses %j', (grant) => {
    expect(ExceptionGrantSchema.safeParse(grant).success).toBe(false);
  });
});
