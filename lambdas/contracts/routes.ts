import type { AdminAction } from '../core/metrics.js';

/**
 * The one route table: API Gateway resources/methods are generated from it, and the local HTTP server dispatches with it.
 * Paths use API Gateway's `{param}` syntax.
 */
export const HTTP_HANDLERS = [
  'register',
  'registration-read',
  'registration-manage',
  'token',
  'introspection',
  'revocation',
  'revocation-list',
  'discovery',
  'review',
  'recertification',
  'admin',
  'review-links',
] as const;
export type HttpHandlerName = (typeof HTTP_HANDLERS)[number];

/** API Gateway throttling of one method: steady requests per second, and the burst (token bucket size) above it. */
export interface ThrottleLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly handler: HttpHandlerName;
  /** The OpenAPI operationId, unique; code names a route by it (see routePath). */
  readonly operationId: string;
  readonly description: string;
  /**
   * API Gateway method throttling for all callers together (WAF limits each IP in front); operators may override it with
   * the `apiRouteThrottling` context value. Without it the route has the stage-wide limits. The token endpoint is the hot
   * path (clients fetch a token per expiry); registration is rare and costly; reviewer pages are clicked by people; the
   * admin API is for operators and their scripts. Anonymous routes stay above one IP's WAF allowance (synth checks it),
   * so one caller spending its whole allowance cannot shut others out.
   */
  readonly throttle?: ThrottleLimits;
  /** Admin routes: the operation, as counted in the AdminActions metric and dispatched by the admin handler. */
  readonly adminAction?: AdminAction;
  /**
   * Who may call it. `public` routes authenticate in the handler (OAuth client auth, registration tokens, signed review
   * links); `iam` routes are for operators: SigV4-signed in AWS (API Gateway IAM authorization), the admin token locally.
   */
  readonly auth: 'public' | 'iam';
}

export const ROUTES = [
  {
    method: 'POST',
    path: '/register',
    operationId: 'registerClient',
    throttle: { rateLimit: 10, burstLimit: 200 },
    handler: 'register',
    description: 'RFC 7591 dynamic client registration, governed by policy',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/register/{client_id}',
    operationId: 'readRegistration',
    throttle: { rateLimit: 10, burstLimit: 200 },
    handler: 'registration-read',
    description: 'RFC 7592 read of a registration and its status',
    auth: 'public',
  },
  {
    method: 'PUT',
    path: '/register/{client_id}',
    operationId: 'updateRegistration',
    throttle: { rateLimit: 10, burstLimit: 200 },
    handler: 'registration-manage',
    description: 'RFC 7592 update of a registration: narrowing changes apply at once, others go through the policy and review',
    auth: 'public',
  },
  {
    method: 'DELETE',
    path: '/register/{client_id}',
    operationId: 'deleteRegistration',
    throttle: { rateLimit: 10, burstLimit: 200 },
    handler: 'registration-manage',
    description: 'RFC 7592 delete: the consumer is revoked at once',
    auth: 'public',
  },
  {
    method: 'POST',
    path: '/oauth2/token',
    operationId: 'issueToken',
    throttle: { rateLimit: 1000, burstLimit: 2000 },
    handler: 'token',
    description: 'RFC 6749 client credentials grant, RFC 9068 JWT access tokens',
    auth: 'public',
  },
  {
    method: 'POST',
    path: '/oauth2/introspect',
    operationId: 'introspectToken',
    handler: 'introspection',
    description: 'RFC 7662 token introspection for resource servers',
    auth: 'public',
  },
  {
    method: 'POST',
    path: '/oauth2/revoke',
    operationId: 'revokeToken',
    handler: 'revocation',
    description: 'RFC 7009 revocation of a client’s own access token',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/oauth2/revocations',
    operationId: 'getRevocationList',
    handler: 'revocation-list',
    description: 'The signed revocation list resource servers refuse tokens by: revoked token ids and consumers whose access ended',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/reviews/{review_id}',
    operationId: 'openReview',
    throttle: { rateLimit: 20, burstLimit: 600 },
    handler: 'review',
    description: 'A reviewer’s page for one request (signed, single-use link; changes nothing)',
    auth: 'public',
  },
  {
    method: 'POST',
    path: '/reviews/{review_id}',
    operationId: 'decideReview',
    throttle: { rateLimit: 20, burstLimit: 600 },
    handler: 'review',
    description: 'A reviewer’s decision: approve or deny with a reason',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/recertifications/{client_id}',
    operationId: 'openAttestation',
    throttle: { rateLimit: 20, burstLimit: 600 },
    handler: 'recertification',
    description: 'A consumer owner’s periodic access review: what it holds and used (signed, single-use attestation link; changes nothing)',
    auth: 'public',
  },
  {
    method: 'POST',
    path: '/recertifications/{client_id}',
    operationId: 'attest',
    throttle: { rateLimit: 20, burstLimit: 600 },
    handler: 'recertification',
    description: 'A consumer owner’s attestation: confirm (optionally dropping scopes) or deregister',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/.well-known/jwks.json',
    operationId: 'getJwks',
    handler: 'discovery',
    description: 'Public keys that verify access tokens',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    operationId: 'getAuthorizationServerMetadata',
    handler: 'discovery',
    description: 'RFC 8414 authorization server metadata',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    handler: 'discovery',
    description: 'This API’s OpenAPI 3.1 document, with this deployment as its server',
    auth: 'public',
  },
  {
    method: 'GET',
    path: '/admin/consumers',
    operationId: 'listConsumers',
    adminAction: 'list_consumers',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: list consumers, filtered by status, tier, dormant soon, expiring soon',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/consumers/{client_id}',
    operationId: 'getConsumer',
    adminAction: 'show_consumer',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: one consumer with its verified audit trail',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/suspend',
    operationId: 'suspendConsumer',
    adminAction: 'suspend',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: suspend a consumer at once, with a reason',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/terminate',
    operationId: 'terminateConsumer',
    adminAction: 'terminate',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: revoke a consumer at once (commercial termination), with a reason',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/rotate-secret',
    operationId: 'rotateConsumerSecret',
    adminAction: 'rotate_secret',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: rotate a consumer’s client secret now (the old one keeps its grace window)',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/consumers/{client_id}/evidence',
    operationId: 'getConsumerEvidence',
    adminAction: 'evidence',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: audit evidence for one consumer, chain verified, mapped to OWASP NHI and NIST CSF',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/reinstate',
    operationId: 'requestReinstatement',
    adminAction: 'request_reinstatement',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: ask for a suspended consumer to be reinstated; reviewers decide',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/review-links',
    operationId: 'resendReviewLinks',
    adminAction: 'resend_review_links',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'review-links',
    description: 'Operators: send fresh review links to the reviewers of a pending registration’s open round (the earlier links stop working)',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/consumers/{client_id}/requests/{request_id}/review-links',
    operationId: 'resendRequestReviewLinks',
    adminAction: 'resend_review_links',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'review-links',
    description: 'Operators: send fresh review links to the reviewers of a pending change request’s open round (the earlier links stop working)',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/exceptions',
    operationId: 'requestException',
    adminAction: 'request_exception',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: ask for a time-boxed exception to one policy rule for one consumer; reviewers decide',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/exceptions',
    operationId: 'listExceptions',
    adminAction: 'list_exceptions',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: list exceptions (pending, active, expired), by consumer or status',
    auth: 'iam',
  },
  {
    method: 'GET',
    path: '/admin/recertifications',
    operationId: 'listRecertifications',
    adminAction: 'list_recertifications',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: consumers whose periodic recertification is due, awaiting a reviewer, or overdue',
    auth: 'iam',
  },
  {
    method: 'POST',
    path: '/admin/policy/evaluate',
    operationId: 'evaluatePolicy',
    adminAction: 'evaluate_policy',
    throttle: { rateLimit: 5, burstLimit: 10 },
    handler: 'admin',
    description: 'Operators: dry-run the deployed policy against a request; nothing is stored',
    auth: 'iam',
  },
] as const satisfies readonly Route[];

/** The operationIds of the route table. */
export type OperationId = (typeof ROUTES)[number]['operationId'];

/** A route by its operationId. */
export function routeNamed(operationId: OperationId): Route {
  return ROUTES.find((r) => r.operationId === operationId)!;
}

/** The path of a route, by its operationId (so code never repeats a path the table owns). */
export function routePath(operationId: OperationId): string {
  return routeNamed(operationId).path;
}

/** The URL of a route under `base` (the issuer), its `{param}`s filled in, percent-encoded. */
export function routeUrl(base: string, operationId: OperationId, params: Readonly<Record<string, string>> = {}): string {
  const path = routePath(operationId).replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`routeUrl: ${operationId} needs {${name}}`);
    return encodeURIComponent(value);
  });
  return `${base.replace(/\/$/, '')}${path}`;
}

/** The route an API Gateway event was matched to (`httpMethod` and `resource`), if any. */
export function routeOf(method: string, resource: string): Route | undefined {
  return ROUTES.find((r) => r.method === method && r.path === resource);
}
