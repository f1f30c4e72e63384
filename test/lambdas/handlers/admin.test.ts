import { describe, expect, it } from 'vitest';
import { ADMIN_ACTIONS } from '../../../lambdas/core/metrics.js';
import { ROUTES, type Route } from '../../../lambdas/contracts/routes.js';

describe('admin routes', () => {
  it('give every admin route its own action, and leave no action without a route', () => {
    const admin: readonly Route[] = ROUTES.filter((r) => r.handler === 'admin');
    const actions = admin.map((r) => r.adminAction);
    expect(actions.every((a) => a !== undefined)).toBe(true);
    expect([...new Set(actions)].sort()).toEqual([...ADMIN_ACTIONS].sort());
    expect(actions).toHaveLength(ADMIN_ACTIONS.length);
  });
});
