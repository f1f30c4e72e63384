import { describe, expect, it } from 'vitest';
import { longestAccessTokenTtlSeconds } from '../../../../lambdas/core/tokens/lifetime.js';

const policy = (ttls: Record<string, number>) => ({
  document: { risks: Object.fromEntries(Object.entries(ttls).map(([risk, accessTokenTtlSeconds]) => [risk, { accessTokenTtlSeconds }])) },
});

describe('longestAccessTokenTtlSeconds', () => {
  it("is the longest of the risks' access-token lifetimes, wherever it is listed", () => {
    expect(longestAccessTokenTtlSeconds(policy({ low: 3600, medium: 900, high: 300 }))).toBe(3600);
    expect(longestAccessTokenTtlSeconds(policy({ low: 300, medium: 7200, high: 900 }))).toBe(7200);
  });

  it('reads the policy it is given each time, so a changed policy counts at once', () => {
    const p = policy({ low: 600 });
    expect(longestAccessTokenTtlSeconds(p)).toBe(600);

    p.document.risks['low']!.accessTokenTtlSeconds = 1200;

    expect(longestAccessTokenTtlSeconds(p)).toBe(1200);
  });
});
