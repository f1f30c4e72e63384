import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes.js';
import { modelFor, ROUTE_MODELS, routeKey } from './route-models.js';

describe('fuzz route models', () => {
  it('has a model for every route in lambdas/contracts/routes.ts, so a new route cannot go unfuzzed', () => {
    const missing = ROUTES.map(routeKey).filter((key) => !(key in ROUTE_MODELS));
    expect(missing, 'add a model to test/integration/fuzz/route-models.ts').toEqual([]);
  });

  it('has no model for a route that no longer exists', () => {
    const routes = new Set(ROUTES.map(routeKey));
    expect(Object.keys(ROUTE_MODELS).filter((key) => !routes.has(key))).toEqual([]);
  });

  it('refuses loudly to fuzz a route without a model', () => {
    expect(() => modelFor({ method: 'GET', path: '/nowhere', handler: 'admin', operationId: 'nowhere', description: '', auth: 'iam' })).toThrow(
      /No fuzz model for GET \/nowhere/,
    );
  });
});
