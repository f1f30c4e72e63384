import { describe, expect, it } from 'vitest';
import { ADMIN_ACTIONS } from '../../../lambdas/core/metrics.js';
import { ROUTES, type Route } from '../../../lambdas/contracts/routes.js';

describe('admin routes', () => {
  it('give every operator (iam) route its own action, and leave no action without a route', () => {
    const iam: readonly Route[] = ROUTES.filter((r) => r.auth === 'iam');
    const actions = iam.map((r) => r.adminAction);
    expect(actions.every((a) => a !== undefined)).toBe(true);
    expect([...new Set(actions)].sort()).toEqual([...ADMIN_ACTIONS].sort());
    // The review-links function serves the two resend routes under one action; every other iam route is the admin handler's.
    expect(iam.filter((r) => r.handler !== 'admin').map((r) => r.adminAction)).toEqual(['resend_review_links', 'resend_review_links']);
    expect(new Set(actions).size).toBe(ADMIN_ACTIONS.length);
  });
});
