import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestTarget, routeMatcher } from '../../../../lambdas/adapters/local/route-table.js';
import { headerMaps } from '../../../../lambdas/adapters/local/http-server.js';
import { ROUTES } from '../../../../lambdas/contracts/routes.js';

/** The plain reading of a route path, segment by segment, as an oracle: the parameters, or undefined when it does not match. */
function matchPath(routePath: string, actual: string): Record<string, string> | undefined {
  const want = routePath.split('/');
  const got = actual.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** Every route, matched by the oracle, in table order. */
const naive = (pathname: string) =>
  ROUTES.map((route) => ({ route, params: matchPath(route.path, pathname) })).filter(
    (c): c is { route: (typeof ROUTES)[number]; params: Record<string, string> } => c.params !== undefined,
  );

/** Paths built from the table's own segments, parameter values and the odd characters a caller may send. */
const segment = fc.oneof(
  fc.constantFrom(...new Set(ROUTES.flatMap((r) => r.path.split('/')).filter((s) => !s.startsWith('{')))),
  fc.constantFrom('', 'gh_abc', '%41', '%E0%A4%A', '%2F', '..', '.', 'a b', '__proto__', 'constructor'),
  fc.string({ maxLength: 6 }),
);
const path = fc.array(segment, { minLength: 1, maxLength: 7 }).map((segments) => `/${segments.join('/')}`);

describe('routeMatcher', () => {
  const match = routeMatcher(ROUTES);

  it('finds the token route and a parameterised route with its decoded parameter', () => {
    expect(match('/oauth2/token').map((m) => m.route.operationId)).toEqual(['issueToken']);
    expect(match('/register/gh%2Fabc').map((m) => [m.route.method, m.params])).toEqual([
      ['GET', { client_id: 'gh/abc' }],
      ['PUT', { client_id: 'gh/abc' }],
      ['DELETE', { client_id: 'gh/abc' }],
    ]);
    expect(match('/register/')).toEqual([]);
    expect(match('/register/%E0%A4%A')).toEqual([]);
    expect(match('/nowhere')).toEqual([]);
  });

  it("answers a route's own path as matchPath does, the same every time", () => {
    for (const { path: p } of ROUTES) {
      expect(match(p)).toEqual(naive(p));
      expect(match(p)).toEqual(match(p));
    }
  });

  it('matches exactly the routes matchPath matches, in table order, with the same parameters', () => {
    fc.assert(
      fc.property(path, (p) => {
        expect(match(p)).toEqual(naive(p));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('requestTarget', () => {
  const viaUrl = (target: string) => {
    const text = target.startsWith('/') ? `http://localhost${target}` : target;
    if (!URL.canParse(text)) return undefined;
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? { pathname: url.pathname, query: [...url.searchParams] } : undefined;
  };
  const summary = (target: string) => {
    const t = requestTarget(target);
    return t && { pathname: t.pathname, query: t.searchParams ? [...t.searchParams] : [] };
  };

  it('takes a plain path as it is, without a URL', () => {
    expect(requestTarget('/oauth2/token')).toEqual({ pathname: '/oauth2/token' });
  });

  it('resolves dot segments, queries, encodings and absolute-form targets as URL parsing does', () => {
    expect(summary('/a/../oauth2/token')).toEqual({ pathname: '/oauth2/token', query: [] });
    expect(summary('/oauth2/token?x=1&x=2')).toEqual({
      pathname: '/oauth2/token',
      query: [
        ['x', '1'],
        ['x', '2'],
      ],
    });
    expect(summary('http://example.com/oauth2/token')).toEqual({ pathname: '/oauth2/token', query: [] });
    expect(summary('//evil.example/x')).toEqual({ pathname: '//evil.example/x', query: [] });
    expect(summary('ftp://example.com/x')).toBeUndefined();
    expect(summary('*')).toBeUndefined();
  });

  it('gives the same path and query as URL parsing for any target', () => {
    const chars = fc.constantFrom(...'/abcZ09.-_~%?#\\ "<>{}|^`é\t'.split(''));
    const target = fc.oneof(
      fc.array(chars, { maxLength: 20 }).map((cs) => `/${cs.join('')}`),
      fc.constantFrom('/.', '/..', '/a/.', '/a/..', '/./a', '/a/./b', '/.a/b.', '/a..b/', '/~x/-y_'),
    );
    fc.assert(
      fc.property(target, (t) => {
        expect(summary(t)).toEqual(viaUrl(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('headerMaps', () => {
  it("joins a repeated header's values with commas and keeps each of them", () => {
    expect(headerMaps(['Host', 'x', 'Accept', 'a', 'Accept', 'b'])).toEqual({
      headers: { Host: 'x', Accept: 'a,b' },
      multiValueHeaders: { Host: ['x'], Accept: ['a', 'b'] },
    });
  });

  it('keeps headers named __proto__ and constructor as data, not as the prototype', () => {
    const { headers, multiValueHeaders } = headerMaps(['constructor', 'c', '__proto__', 'p', '__proto__', 'q']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(multiValueHeaders)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([
      ['constructor', 'c'],
      ['__proto__', 'p,q'],
    ]);
    expect(Object.entries(multiValueHeaders)).toEqual([
      ['constructor', ['c']],
      ['__proto__', ['p', 'q']],
    ]);
  });
});
