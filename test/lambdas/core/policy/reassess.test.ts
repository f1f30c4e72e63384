import { describe, expect, it } from 'vitest';
import { reassess } from '../../../../lambdas/core/policy/reassess.js';
import { consumerFixture, DAY_MS, defaultPolicy, NOW } from '../../fixtures.js';
import { policyWith } from './fixtures.js';

const codes = (r: ReturnType<typeof reassess>) => r.reasons.map((x) => x.code);

describe('reassess', () => {
  it('finds a consumer registered under the policy in policy', () => {
    const r = reassess(defaultPolicy, consumerFixture(), NOW);
    expect(r).toMatchObject({ inPolicy: true, reasons: [], waived: [] });
    expect(r.decision.requirements).toEqual(defaultPolicy.document.risks.low);
  });

  it('measures the grant from when it was made, so time passing never puts a consumer out of policy', () => {
    const consumer = consumerFixture({ createdAt: NOW.toISOString(), expiresAt: new Date(NOW.getTime() + 360 * DAY_MS).toISOString() });
    expect(reassess(defaultPolicy, consumer, new Date(NOW.getTime() + 200 * DAY_MS)).inPolicy).toBe(true);
  });

  it('finds a method the new policy no longer allows, a shorter maximum grant, and a scope taken from the tier', () => {
    const stricter = policyWith((doc) => {
      doc.risks.low.authMethods = ['client_secret_post', 'private_key_jwt'];
      doc.risks.low.maxGrantDays = 10;
      doc.risks.medium.maxGrantDays = 10;
      doc.risks.high.maxGrantDays = 10;
    });
    expect(codes(reassess(stricter, consumerFixture(), NOW))).toEqual(['expiry_exceeds_maximum', 'auth_method_too_weak']);
  });

  it('counts approvals a riskier policy needs and the consumer never had', () => {
    const riskier = policyWith((doc) => {
      doc.scopes['reference-data:read']!.risk = 'medium';
      doc.dataClasses['public']!.risk = 'medium';
      doc.tiers.public.maxRisk = 'medium';
    });
    const keyBound = consumerFixture({ authMethod: 'private_key_jwt', secretHash: undefined });
    expect(codes(reassess(riskier, keyBound, NOW))).toEqual(['approvals_insufficient']);
    const approved = { ...keyBound, approvals: [{ reviewer: 'alice.reviewer@bank.example', round: 1, at: NOW.toISOString() }] };
    expect(reassess(riskier, approved, NOW).inPolicy).toBe(true);
    // The same reviewer twice is one approval.
    const twice = policyWith((doc) => {
      doc.scopes['reference-data:read']!.risk = 'high';
      doc.dataClasses['public']!.risk = 'high';
      doc.tiers.public.maxRisk = 'high';
    });
    const sameTwice = { ...approved, approvals: [...approved.approvals, { reviewer: 'Alice.Reviewer@bank.example ', round: 2, at: NOW.toISOString() }] };
    expect(codes(reassess(twice, sameTwice, NOW))).toEqual(['approvals_insufficient']);
  });

  it('waives a too-weak method only under an auth_method exception for that method, and only while it lasts', () => {
    const stricter = policyWith((doc) => {
      doc.risks.low.authMethods = ['client_secret_post', 'private_key_jwt'];
    });
    const exception = {
      rule: 'auth_method' as const,
      value: 'client_secret_basic' as const,
      exceptionId: 'exc-1',
      grantedAt: NOW.toISOString(),
      expiresAt: new Date(NOW.getTime() + DAY_MS).toISOString(),
      approvers: ['a@bank.example'],
    };
    const covered = consumerFixture({ exceptions: [exception] });
    expect(reassess(stricter, covered, NOW)).toMatchObject({ inPolicy: true, waived: [expect.objectContaining({ code: 'auth_method_too_weak' })] });
    expect(reassess(stricter, covered, new Date(NOW.getTime() + DAY_MS)).inPolicy).toBe(false);
    const otherMethod = consumerFixture({ exceptions: [{ ...exception, value: 'client_secret_post' }] });
    expect(reassess(stricter, otherMethod, NOW).inPolicy).toBe(false);
  });
});
