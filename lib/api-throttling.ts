import type { Route, ThrottleLimits } from '../lambdas/contracts/routes.js';

export type { ThrottleLimits };

/**
 * Operators' overrides of the route table's method throttling (Route.throttle), by route selector: an operationId
 * (`issueToken`, one route), `METHOD /path` (one route), `/prefix/*` (every route under the prefix, any method) or
 * `METHOD /prefix/*`. Paths use the route table's `{param}` syntax. A route takes the limits of the most specific selector
 * matching it (an operationId or exact path before a prefix, a longer prefix before a shorter one, a selector naming the
 * method before one that does not), else its own throttle; a route with neither keeps the stage-wide limits.
 */
export type RouteThrottling = Readonly<Record<string, ThrottleLimits>>;

/** API Gateway's regional account quota: no method can be allowed more. */
export const MAX_RATE_LIMIT = 10_000;
export const MAX_BURST_LIMIT = 5_000;

interface Selector {
  readonly key: string;
  readonly operationId?: string;
  readonly method?: string;
  readonly path: string;
  readonly prefix: boolean;
}

const OPERATION_ID = /^[A-Za-z][A-Za-z0-9]*$/;

const SELECTOR = /^(?:(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) )?(\/\S*)$/;

function parseSelector(key: string): Selector {
  if (OPERATION_ID.test(key)) return { key, operationId: key, path: '', prefix: false };
  const match = SELECTOR.exec(key);
  if (!match) throw new Error(`API throttling: "${key}" is not a route selector (an operationId, METHOD /path, /prefix/* or METHOD /prefix/*)`);
  const [, method, path] = match as unknown as [string, string | undefined, string];
  const prefix = path.endsWith('/*');
  return { key, ...(method ? { method } : {}), path: prefix ? path.slice(0, -1) : path, prefix };
}

function matches(selector: Selector, route: Route): boolean {
  if (selector.operationId !== undefined) return selector.operationId === route.operationId;
  if (selector.method !== undefined && selector.method !== route.method) return false;
  return selector.prefix ? route.path.startsWith(selector.path) : route.path === selector.path;
}

/** Higher is more specific: an operationId, an exact path, then prefix length, then a named method. */
function specificity(selector: Selector): number {
  if (selector.operationId !== undefined) return 2_000_000;
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
 * The method limits of each route, keyed `METHOD path`: the most specific override matching it, else the route's own
 * throttle. Throws on a malformed selector, limits API Gateway would refuse, or a selector that matches no route (a typo
 * would otherwise silently leave a route at its default).
 */
export function routeThrottles(routes: readonly Route[], overrides: RouteThrottling = {}): Map<string, ThrottleLimits> {
  const selectors = Object.keys(overrides).map(parseSelector);
  for (const selector of selectors) {
    checkLimits(selector.key, overrides[selector.key]!);
    if (!routes.some((route) => matches(selector, route))) throw new Error(`API throttling: "${selector.key}" matches no route`);
  }
  const result = new Map<string, ThrottleLimits>();
  for (const route of routes) {
    const best = selectors.filter((s) => matches(s, route)).sort((a, b) => specificity(b) - specificity(a))[0];
    const limits = best ? overrides[best.key]! : route.throttle;
    if (limits) result.set(`${route.method} ${route.path}`, limits);
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
