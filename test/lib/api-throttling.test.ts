import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_THROTTLING, routeThrottles } from '../../lib/api-throttling.js';
import { ROUTES, type Route } from '../../lambdas/contracts/routes.js';

const route = (method: Route['method'], path: string): Route => ({ method, path, handler: 'discovery', description: 'test', auth: 'public' });

describe('routeThrottles', () => {
  it('applies the defaults to the route table: token above the stage, registration, reviews and admin below it', () => {
    const limits = routeThrottles(ROUTES, DEFAULT_ROUTE_THROTTLING);
    expect(limits.get('POST /oauth2/token')).toEqual({ rateLimit: 1000, burstLimit: 2000 });
    expect(limits.get('POST /register')).toEqual({ rateLimit: 2, burstLimit: 5 });
    expect(limits.get('GET /register/{client_id}')).toEqual({ rateLimit: 5, burstLimit: 10 });
    const slow = ROUTES.filter((r) => r.path.startsWith('/admin/') || r.path.startsWith('/reviews/'));
    expect(slow.length).toBeGreaterThan(10);
    for (const r of slow) expect(limits.get(`${r.method} ${r.path}`), r.path).toEqual({ rateLimit: 5, burstLimit: 10 });
    // Introspection, revocation and discovery keep the stage-wide limits.
    expect([...limits.keys()].filter((k) => k.includes('/oauth2/') || k.includes('/.well-known/'))).toEqual(['POST /oauth2/token']);
    expect(limits.size).toBe(slow.length + 3);
  });

  it('picks the most specific selector: exact path, then the longer prefix, then the one naming the method', () => {
    const routes = [route('GET', '/a/b/c'), route('POST', '/a/b/c'), route('GET', '/a/x'), route('POST', '/a/b/d')];
    const limits = routeThrottles(routes, {
      '/a/*': { rateLimit: 1, burstLimit: 1 },
      '/a/b/*': { rateLimit: 2, burstLimit: 2 },
      'POST /a/b/*': { rateLimit: 3, burstLimit: 3 },
      'GET /a/b/c': { rateLimit: 4, burstLimit: 4 },
    });
    expect(Object.fromEntries(limits)).toEqual({
      'GET /a/b/c': { rateLimit: 4, burstLimit: 4 },
      'POST /a/b/c': { rateLimit: 3, burstLimit: 3 },
      'GET /a/x': { rateLimit: 1, burstLimit: 1 },
      'POST /a/b/d': { rateLimit: 3, burstLimit: 3 },
    });
  });

  it('does not let a prefix match the path it names without the slash (/register/* is not /register)', () => {
    const limits = routeThrottles(ROUTES, { '/register/*': { rateLimit: 1, burstLimit: 2 } });
    expect([...limits.keys()]).toEqual(['GET /register/{client_id}']);
  });

  it.each([
    ['a malformed selector', { 'oauth2/token': { rateLimit: 1, burstLimit: 1 } }, /"oauth2\/token" is not a route selector/],
    ['an unknown method', { 'FETCH /register': { rateLimit: 1, burstLimit: 1 } }, /"FETCH \/register" is not a route selector/],
    ['a selector that matches no route', { 'POST /oauth2/tokens': { rateLimit: 1, burstLimit: 1 } }, /"POST \/oauth2\/tokens" matches no route/],
    ['a method the path is not served with', { 'GET /oauth2/token': { rateLimit: 1, burstLimit: 1 } }, /"GET \/oauth2\/token" matches no route/],
    ['a zero rate', { '/admin/*': { rateLimit: 0, burstLimit: 1 } }, /"\/admin\/\*" rateLimit must be above 0 and at most 10000, got 0/],
    ['a rate above the account quota', { '/admin/*': { rateLimit: 10_001, burstLimit: 1 } }, /rateLimit must be above 0 and at most 10000, got 10001/],
    ['a fractional burst', { '/admin/*': { rateLimit: 1, burstLimit: 1.5 } }, /burstLimit must be a whole number from 0 to 5000, got 1\.5/],
  ])('refuses %s', (_what, throttling, message) => {
    expect(() => routeThrottles(ROUTES, throttling)).toThrow(message);
  });
});
