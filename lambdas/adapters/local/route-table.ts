import type { Route } from '../../contracts/routes.js';

/** A route whose path matched a request's, with its decoded `{param}`s. */
export interface RouteMatch<R extends Route> {
  readonly route: R;
  readonly params: Readonly<Record<string, string>>;
}

interface CompiledRoute<R extends Route> {
  readonly route: R;
  /** Per path segment: the literal to compare, or the name of the parameter it fills. */
  readonly segments: ReadonlyArray<{ readonly literal: string } | { readonly param: string }>;
}

/**
 * Every route whose path matches `pathname`, in table order, with API Gateway's rules for a REST resource path (literal
 * segments compared as they are, each `{param}` a non-empty segment, percent-decoded; a segment that does not decode
 * matches nothing). The table is split into segments once, and a request is compared only with the routes of its
 * segment count, so a request splits its path once instead of once per route.
 */
export function routeMatcher<R extends Route>(routes: readonly R[]): (pathname: string) => ReadonlyArray<RouteMatch<R>> {
  const bySegmentCount = new Map<number, Array<CompiledRoute<R>>>();
  for (const route of routes) {
    const segments = route.path.split('/').map((s) => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : { literal: s }));
    const group = bySegmentCount.get(segments.length);
    if (group) group.push({ route, segments });
    else bySegmentCount.set(segments.length, [{ route, segments }]);
  }
  const match = (pathname: string): Array<RouteMatch<R>> => {
    const got = pathname.split('/');
    const matches: Array<RouteMatch<R>> = [];
    for (const { route, segments } of bySegmentCount.get(got.length) ?? []) {
      const params = matchSegments(segments, got);
      if (params) matches.push({ route, params });
    }
    return matches;
  };
  // A route's own literal path (such as /oauth2/token) always gets the same answer; it is worked out once, and kept when
  // no parameter was decoded, so nothing shared could be changed by a request.
  const literal = new Map<string, ReadonlyArray<RouteMatch<R>>>();
  for (const route of routes) {
    if (route.path.includes('{')) continue;
    const matches = match(route.path);
    if (matches.every((m) => Object.keys(m.params).length === 0))
      literal.set(route.path, Object.freeze(matches.map((m) => Object.freeze({ route: m.route, params: Object.freeze(m.params) }))));
  }
  return (pathname) => literal.get(pathname) ?? match(pathname);
}

function matchSegments(segments: CompiledRoute<Route>['segments'], got: readonly string[]): Record<string, string> | undefined {
  // Literals first: most routes of a length differ there, and nothing is decoded for them.
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if ('literal' in segment && segment.literal !== got[i]) return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (!('param' in segment)) continue;
    const value = got[i]!;
    if (value === '') return undefined;
    try {
      params[segment.param] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

/** Characters that `new URL` leaves as they are in a path: an origin-form target made only of them needs no parsing. */
const PLAIN_PATH = /^\/[A-Za-z0-9._~/-]*$/;
/** `.` and `..` segments, which URL parsing removes. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/**
 * The path and query of a request target as a URL on this server. Origin-form is resolved against a fixed origin (so
 * `//host/path` is a path, not another host); absolute-form (RFC 9112 §3.2.2) is accepted; anything else is undefined.
 * A plain path (no query, no character URL parsing would change, no dot segment) is taken as it is, without parsing.
 */
export function requestTarget(target: string): { readonly pathname: string; readonly searchParams?: URLSearchParams } | undefined {
  if (PLAIN_PATH.test(target) && !DOT_SEGMENT.test(target)) return { pathname: target };
  const text = target.startsWith('/') ? `http://localhost${target}` : target;
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}
