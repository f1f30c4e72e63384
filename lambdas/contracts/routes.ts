/**
 * The one route table: API Gateway resources/methods are generated from it, and the local HTTP server dispatches with it.
 * Paths use API Gateway's `{param}` syntax.
 */
export const HTTP_HANDLERS = [
  'register',
  'registration-read',
  'token',
  'introspection',
  'revocation',
  'revocation-list',
  'discovery',
  'review',
  'admin',
  'review-links',
] as const;
export type HttpHandlerName = (typeof HTTP_HANDLERS)[number];

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly handler: HttpHandlerName;
  readonly description: string;
  /**
   * Who may call it. `public` routes authenticate in the handler (OAuth client auth, registration tokens, signed review
   * links); `iam` routes are for operators: SigV4-signed in AWS (API Gateway IAM authorization), the admin token locally.
   */
  readonly auth: 'public' | 'iam';
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/register', handler: 'register', description: 'RFC 7591 dynamic client registration, governed by policy', auth: 'public' },
  { method: 'GET', path: '/register/{client_id}', handler: 'registration-read', description: 'RFC 7592 read of a registration and its status', auth: 'public' },
  { method: 'POST', path: '/oauth2/token', handler: 'token', description: 'RFC 6749 client credentials grant, RFC 9068 JWT access tokens', auth: 'public' },
  { method: 'POST', path: '/oauth2/introspect', handler: 'introspection', description: 'RFC 7662 token introspection for resource servers', auth: 'public' },
  { method: 'POST', path: '/oauth2/revoke', handler: 'revocation', description: 'RFC 7009 revocation of a client’s own access token', auth: 'public' },
  {
    method: 'GET',
    path: '/oauth2/revocations',
    handler: 'revocation-list',
    description: 'The signed revocation list resource servers refuse tokens by: revoked token ids and consumers whose access ended',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/reviews/{review_id}',
    handler: 'review',
    description: 'A reviewer’s page for one request (signed, single-use link; changes nothing)',
    auth: 'public',
  },
  { method: 'POST', path: '/reviews/{review_id}', handler: 'review', description: 'A reviewer’s decision: approve or deny with a reason', auth: 'public' },
  { method: 'GET', path: '/.well-known/jwks.json', handler: 'discovery', description: 'Public keys that verify access tokens', auth: 'public' },
  {
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    handler: 'discovery',
    description: 'RFC 8414 authorization server metadata',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/openapi.json',
    handler: 'discovery',
    description: 'This API’s OpenAPI 3.1 document, with this deployment as its server',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/admin/consumers',
    handler: 'admin',
    description: 'Operators: list consumers, filtered by status, tier, dormant soon, expiring soon',
    auth: 'iam',
  },
  { method: 'GET', path: '/admin/consumers/{client_id}', handler: 'admin', description: 'Operators: one consumer with its verified audit trail', auth: 'iam' },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/suspend',
    handler: 'admin',
    description: 'Operators: suspend a consumer at once, with a reason',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/terminate',
    handler: 'admin',
    description: 'Operators: revoke a consumer at once (commercial termination), with a reason',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/rotate-secret',
    handler: 'admin',
    description: 'Operators: rotate a consumer’s client secret now (the old one keeps its grace window)',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/consumers/{client_id}/evidence',
    handler: 'admin',
    description: 'Operators: audit evidence for one consumer, chain verified, mapped to OWASP NHI and NIST CSF',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/reinstate',
    handler: 'admin',
    description: 'Operators: ask for a suspended consumer to be reinstated; reviewers decide',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/review-links',
    handler: 'review-links',
    description: 'Operators: send fresh review links to the reviewers of a pending registration’s open round (the earlier links stop working)',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/requests/{request_id}/review-links',
    handler: 'review-links',
    description: 'Operators: send fresh review links to the reviewers of a pending change request’s open round (the earlier links stop working)',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/exceptions',
    handler: 'admin',
    description: 'Operators: ask for a time-boxed exception to one policy rule for one consumer; reviewers decide',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/exceptions',
    handler: 'admin',
    description: 'Operators: list exceptions (pending, active, expired), by consumer or status',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/policy/evaluate',
    handler: 'admin',
    description: 'Operators: dry-run the deployed policy against a request; nothing is stored',
    auth: 'iam',
  },
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
