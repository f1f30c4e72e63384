/**
 * The one route table: API Gateway resources/methods are generated from it, and the local HTTP server dispatches with it.
 * Paths use API Gateway's `{param}` syntax.
 */
export const HTTP_HANDLERS = ['register', 'registration-read', 'token', 'introspection', 'revocation', 'discovery', 'review'] as const;
export type HttpHandlerName = (typeof HTTP_HANDLERS)[number];

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: HttpHandlerName;
  readonly description: string;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/register', handler: 'register', description: 'RFC 7591 dynamic client registration, governed by policy' },
  { method: 'GET', path: '/register/{client_id}', handler: 'registration-read', description: 'RFC 7592 read of a registration and its status' },
  { method: 'POST', path: '/oauth2/token', handler: 'token', description: 'RFC 6749 client credentials grant, RFC 9068 JWT access tokens' },
  { method: 'POST', path: '/oauth2/introspect', handler: 'introspection', description: 'RFC 7662 token introspection for resource servers' },
  { method: 'POST', path: '/oauth2/revoke', handler: 'revocation', description: 'RFC 7009 revocation of a client’s own access token' },
  { method: 'GET', path: '/reviews/{review_id}', handler: 'review', description: 'A reviewer’s page for one request (signed, single-use link; changes nothing)' },
  { method: 'POST', path: '/reviews/{review_id}', handler: 'review', description: 'A reviewer’s decision: approve or deny with a reason' },
  { method: 'GET', path: '/.well-known/jwks.json', handler: 'discovery', description: 'Public keys that verify access tokens' },
  { method: 'GET', path: '/.well-known/oauth-authorization-server', handler: 'discovery', description: 'RFC 8414 authorization server metadata' },
];

/** Matches a concrete path against a route path; returns the path parameters or undefined. */
export function matchPath(routePath: string, actual: string): Record<string, string> | undefined {
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
