import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_RATE_LIMITS, ROUTE_MATCHES } from '../../lib/api-firewall.js';
import { checkAboveOneIp, routeThrottles } from '../../lib/api-throttling.js';
import { ROUTES, type Route } from '../../lambdas/contracts/routes.js';

const route = (method: Route['method'], path: string, throttle?: Route['throttle']): Route => ({
  method,
  path,
  handler: 'discovery',
  operationId: `${method.toLowerCase()}${path.replaceAll(/\W/g, '')}`,
  description: 'test',
  auth: 'public',
  ...(throttle ? { throttle } : {}),
});

describe('routeThrottles', () => {
  it("applies the route table's own limits: token above the stage, registration and reviews above one IP, admin below the stage", () => {
    const limits = routeThrottles(ROUTES);
    expect(limits.get('POST /oauth2/token')).toEqual({ rateLimit: 1000, burstLimit: 2000 });
    expect(limits.get('POST /register')).toEqual({ rateLimit: 10, burstLimit: 200 });
    expect(limits.get('GET /register/{client_id}')).toEqual({ rateLimit: 10, burstLimit: 200 });
    const admin = ROUTES.filter((r) => r.path.startsWith('/admin/'));
    const reviews = ROUTES.filter((r) => r.path.startsWith('/reviews/') || r.path.startsWith('/recertifications/'));
    expect(admin.length).toBeGreaterThan(5);
    for (const r of admin) expect(limits.get(`${r.method} ${r.path}`), r.path).toEqual({ rateLimit: 5, burstLimit: 10 });
    for (const r of reviews) expect(limits.get(`${r.method} ${r.path}`), r.path).toEqual({ rateLimit: 20, burstLimit: 600 });
    const slow = [...admin, ...reviews];
    // Introspection, revocation and discovery keep the stage-wide limits.
    expect([...limits.keys()].filter((k) => k.includes('/oauth2/') || k.includes('/.well-known/'))).toEqual(['POST /oauth2/token']);
    const registration = ROUTES.filter((r) => r.path.startsWith('/register'));
    for (const r of registration) expect(limits.get(`${r.method} ${r.path}`), r.path).toEqual({ rateLimit: 10, burstLimit: 200 });
    expect(limits.size).toBe(slow.length + registration.length + 1);
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

  it("lets an override by operationId or selector win over a route's own limits, and leaves the others at theirs", () => {
    const routes = [route('POST', '/t', { rateLimit: 9, burstLimit: 9 }), route('GET', '/u', { rateLimit: 8, burstLimit: 8 }), route('GET', '/v')];
    const limits = routeThrottles(routes, { postt: { rateLimit: 1, burstLimit: 1 }, 'GET /v': { rateLimit: 2, burstLimit: 2 } });
    expect(Object.fromEntries(limits)).toEqual({
      'POST /t': { rateLimit: 1, burstLimit: 1 },
      'GET /u': { rateLimit: 8, burstLimit: 8 },
      'GET /v': { rateLimit: 2, burstLimit: 2 },
    });
  });

  it('does not let a prefix match the path it names without the slash (/register/* is not /register)', () => {
    const limits = routeThrottles(ROUTES, { '/register/*': { rateLimit: 1, burstLimit: 2 } });
    expect(limits.get('GET /register/{client_id}')).toEqual({ rateLimit: 1, burstLimit: 2 });
    expect(limits.get('POST /register')).toEqual({ rateLimit: 10, burstLimit: 200 });
  });

  it.each([
    ['a malformed selector', { 'oauth2/token': { rateLimit: 1, burstLimit: 1 } }, /"oauth2\/token" is not a route selector/],
    ['an unknown method', { 'FETCH /register': { rateLimit: 1, burstLimit: 1 } }, /"FETCH \/register" is not a route selector/],
    ['an operationId no route has', { issueTokens: { rateLimit: 1, burstLimit: 1 } }, /"issueTokens" matches no route/],
    ['a selector that matches no route', { 'POST /oauth2/tokens': { rateLimit: 1, burstLimit: 1 } }, /"POST \/oauth2\/tokens" matches no route/],
    ['a method the path is not served with', { 'GET /oauth2/token': { rateLimit: 1, burstLimit: 1 } }, /"GET \/oauth2\/token" matches no route/],
    ['a zero rate', { '/admin/*': { rateLimit: 0, burstLimit: 1 } }, /"\/admin\/\*" rateLimit must be above 0 and at most 10000, got 0/],
    ['a rate above the account quota', { '/admin/*': { rateLimit: 10_001, burstLimit: 1 } }, /rateLimit must be above 0 and at most 10000, got 10001/],
    ['a fractional burst', { '/admin/*': { rateLimit: 1, burstLimit: 1.5 } }, /burstLimit must be a whole number from 0 to 5000, got 1\.5/],
  ])('refuses %s', (_what, throttling, message) => {
    expect(() => routeThrottles(ROUTES, throttling)).toThrow(message);
  });
});

describe('checkAboveOneIp', () => {
  const stage = { rateLimit: 50, burstLimit: 100 };
  const groups = {
    register: { pathFragment: ROUTE_MATCHES.register.searchString, perIpPer5Minutes: DEFAULT_ROUTE_RATE_LIMITS.register },
    reviews: { pathFragment: ROUTE_MATCHES.reviews.searchString, perIpPer5Minutes: DEFAULT_ROUTE_RATE_LIMITS.reviews },
  };

  it('passes the defaults: no anonymous registration or review route can be exhausted by one IP within its WAF allowance', () => {
    expect(checkAboveOneIp(ROUTES, routeThrottles(ROUTES), stage, groups)).toEqual([]);
  });

  it("names every route whose burst or rate is below one IP's allowance, including one left at the stage limits", () => {
    const throttles = routeThrottles(ROUTES, { 'POST /register': { rateLimit: 2, burstLimit: 5 } });
    throttles.delete('GET /reviews/{review_id}');
    const problems = checkAboveOneIp(ROUTES, throttles, { rateLimit: 50, burstLimit: 100 }, groups);
    expect(problems.map((p) => p.split(' (')[0])).toEqual(['POST /register', 'GET /reviews/{review_id}']);
    expect(problems[0]).toContain('burstLimit >= 100 and rateLimit >= 1');
  });
});
