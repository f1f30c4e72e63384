import { describe, expect, it } from 'vitest';
import { ADMIN_ACTIONS } from '../../../lambdas/core/metrics.js';
import { ADMIN_ROUTE_ACTIONS } from '../../../lambdas/handlers/admin.js';
import { ROUTES } from '../../../lambdas/contracts/routes.js';

describe('ADMIN_ROUTE_ACTIONS', () => {
  it('counts every admin route under its own action, and has no action without a route', () => {
    const adminRoutes = ROUTES.filter((r) => r.handler === 'admin').map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(ADMIN_ROUTE_ACTIONS).sort()).toEqual(adminRoutes.sort());
    // The review-links function serves the other iam routes and counts them as resend_review_links.
    expect(ROUTES.filter((r) => r.auth === 'iam' && r.handler !== 'admin').every((r) => r.handler === 'review-links')).toBe(true);
    expect(Object.values(ADMIN_ROUTE_ACTIONS).sort()).toEqual(ADMIN_ACTIONS.filter((a) => a !== 'resend_review_links').sort());
  });
});
