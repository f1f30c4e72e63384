import type { Route } from '../lambdas/contracts/routes.js';

/** API Gateway throttling of one method: steady requests per second, and the burst (token bucket size) above it. */
export interface ThrottleLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Method throttling by route selector: `METHOD /path` (one route), `/prefix/*` (every route under the prefix, any
 * method) or `METHOD /prefix/*`. Paths use the route table's `{param}` syntax. A route takes the limits of the most
 * specific selector matching it (an exact path before a prefix, a longer prefix before a shorter one, a selector naming
 * the method before one that does not); a route no selector matches keeps the stage-wide limits.
 */
export type RouteThrottling = Readonly<Record<string, ThrottleLimits>>;

/**
 * The defaults, per API Gateway stage (all clients together; WAF adds a per-IP limit in front):
 * - the token endpoint is the hot path (clients fetch a token per expiry), so it gets more than the stage default: 1,000 req/s, the rate the load test (bench/load.bench.ts) holds with zero errors;
 * - registration is rare and costly (policy evaluation, a review workflow, a secret), and reads of a registration are an
 *   operator's or a client's occasional check; reviewer pages and decisions are clicked by people. These routes are
 *   anonymous, so WAF limits each IP (DEFAULT_ROUTE_RATE_LIMITS) and these limits for everyone together sit above one
 *   IP's WAF allowance ({@link checkAboveOneIp}): one caller spending its whole allowance cannot shut others out;
 * - the admin API is for operators and their scripts.
 */
export const DEFAULT_ROUTE_THROTTLING: RouteThrottling = {
  'POST /oauth2/token': { rateLimit: 1000, burstLimit: 2000 },
  'POST /register': { rateLimit: 10, burstLimit: 200 },
  'GET /register/{client_id}': { rateLimit: 10, burstLimit: 200 },
  '/reviews/*': { rateLimit: 20, burstLimit: 600 },
  '/admin/*': { rateLimit: 5, burstLimit: 10 },
};

/** API Gateway's regional account quota: no method can be allowed more. */
export const MAX_RATE_LIMIT = 10_000;
export const MAX_BURST_LIMIT = 5_000;

interface Selector {
  readonly key: string;
  readonly method?: string;
  readonly path: string;
  readonly prefix: boolean;
}

const SELECTOR = /^(?:(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?(\/\S*)$/;

function parseSelector(key: string): Selector {
  const match = SELECTOR.exec(key);
  if (!match) throw new Error(`API throttling: "${key}" is not a route selector (METHOD /path, /prefix/* or METHOD /prefix/*)`);
  const [, method, path] = match as unknown as [string, string | undefined, string];
  const prefix = path.endsWith('/*');
  return { key, ...(method ? { method } : {}), path: prefix ? path.slice(0, -1) : path, prefix };
}

function matches(selector: Selector, route: Route): boolean {
  if (selector.method !== undefined && selector.method !== route.method) return false;
  return selector.prefix ? route.path.startsWith(selector.path) : route.path === selector.path;
}

/** Higher is more specific: exact path, then prefix length, then a named method. */
function specificity(selector: Selector): number {
  return (selector.prefix ? 0 : 1_000_000) + selector.path.length * 2 + (selector.method ? 1 : 0);
}

function checkLimits(key: string, limits: ThrottleLimits): void {
  if (!(limits.rateLimit > 0 && limits.rateLimit <= MAX_RATE_LIMIT)) {
    throw new Error(`API throttling: "${key}" rateLimit must be above 0 and at most ${MAX_RATE_LIMIT}, got ${limits.rateLimit}`);
  }
  if (!Number.isInteger(limits.burstLimit) || limits.burstLimit < 0 || limits.burstLimit > MAX_BURST_LIMIT) {
    throw new Error(`API throttling: "${key}" burstLimit must be a whole number from 0 to ${MAX_BURST_LIMIT}, got ${limits.burstLimit}`);
  }
}

/**
 * The method limits of each route some selector matches, keyed `METHOD path` as in the route table. Throws on a
 * malformed selector, limits API Gateway would refuse, or a selector that matches no route (a typo would otherwise
 * silently leave a route at the stage-wide limits).
 */
export function routeThrottles(routes: readonly Route[], throttling: RouteThrottling): Map<string, ThrottleLimits> {
  const selectors = Object.keys(throttling).map(parseSelector);
  for (const selector of selectors) {
    checkLimits(selector.key, throttling[selector.key]!);
    if (!routes.some((route) => matches(selector, route))) throw new Error(`API throttling: "${selector.key}" matches no route`);
  }
  const result = new Map<string, ThrottleLimits>();
  for (const route of routes) {
    const best = selectors.filter((s) => matches(s, route)).sort((a, b) => specificity(b) - specificity(a))[0];
    if (best) result.set(`${route.method} ${route.path}`, throttling[best.key]!);
  }
  return result;
}

/**
 * The stage throttle of an anonymous route group must not be exhaustible by one caller: for every route in the group, the
 * bucket holds one IP's whole 5-minute WAF allowance at once (burstLimit) and the steady rate admits it in 5 minutes
 * (rateLimit x 300). Returns each route that falls short, with the fix.
 */
export function checkAboveOneIp(
  routes: readonly Route[],
  throttles: ReadonlyMap<string, ThrottleLimits>,
  stage: ThrottleLimits,
  groups: Readonly<Record<string, { readonly pathFragment: string; readonly perIpPer5Minutes: number }>>,
): string[] {
  const problems: string[] = [];
  for (const [group, { pathFragment, perIpPer5Minutes }] of Object.entries(groups)) {
    for (const route of routes.filter((r) => r.path.includes(pathFragment.replace(/\/$/, '')))) {
      const key = `${route.method} ${route.path}`;
      const limits = throttles.get(key) ?? stage;
      if (limits.burstLimit < perIpPer5Minutes || limits.rateLimit * 300 < perIpPer5Minutes) {
        problems.push(
          `${key} (rate ${limits.rateLimit}/s, burst ${limits.burstLimit}) is below one IP's WAF allowance for ${group} (${perIpPer5Minutes} requests in 5 minutes): one caller could exhaust it for everyone. Raise its apiRouteThrottling to burstLimit >= ${perIpPer5Minutes} and rateLimit >= ${Math.ceil(perIpPer5Minutes / 300)}, or lower apiRouteRequestsPerIpPer5Minutes.${group}.`,
        );
      }
    }
  }
  return problems;
}
