import type * as z from 'zod/mini';
import type { Route } from '../../contracts/routes.js';
import { ExceptionGrantSchema } from '../../core/exceptions/rules.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../../core/idempotency/seal.js';
import { ClientMetadataSchema } from '../../core/registration/metadata.js';
import { EvaluateBody, ExceptionBody, ListConsumersQuery, ListExceptionsQuery, ReasonBody, RotateSecretBody } from '../admin-schemas.js';
import {
  CACHE_CONTROL,
  htmlPage,
  jsonBody,
  MEDIA,
  oauthError,
  problemBody,
  ref,
  responses,
  RETRY_AFTER,
  WWW_AUTHENTICATE,
  type ParameterSpec,
  type Responses,
} from './components.js';

/** `METHOD /path`, as in ROUTES. */
export type RouteKey = `${Route['method']} ${string}`;

export const routeKey = (route: Pick<Route, 'method' | 'path'>): RouteKey => `${route.method} ${route.path}`;

export type Tag = 'Registration' | 'OAuth' | 'Reviews' | 'Discovery' | 'Admin';

/**
 * A request body. With `zod`, its schema is generated from that zod schema (the one the handler parses with) under
 * `components.schemas[name]`; without, `name` is a hand-written schema in components (the OAuth forms, which core/oauth
 * reads parameter by parameter as the RFCs define them).
 */
export interface BodySpec {
  readonly mediaType: typeof MEDIA.json | typeof MEDIA.form;
  readonly name: string;
  readonly zod?: z.core.$ZodType;
}

/** What the route table does not say about a route: how to call it and what comes back. */
export interface OperationSpec {
  readonly operationId: string;
  readonly tag: Tag;
  readonly description?: string;
  /**
   * Public routes only (alternatives; `{}` means "or none of these"); absent means anyone may call. `iam` routes always
   * get SigV4 (AWS) or the local admin token, from the route's `auth`.
   */
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly ParameterSpec[];
  /** Query parameters generated from the zod schema the handler parses the query with. */
  readonly query?: { readonly name: string; readonly zod: z.core.$ZodType };
  readonly body?: BodySpec;
  /** Success and route-specific errors; 500, 413 (with a body), 415 and 400 (JSON bodies) and 401/403 (iam) are added. */
  readonly responses: Responses;
}

/**
 * Schemas a handler checks beyond the request body's own (named in operation descriptions), generated like request
 * bodies from the zod schema the handler uses.
 */
export const CHECKED_SCHEMAS: Readonly<Record<string, { readonly description: string; readonly zod: z.core.$ZodType }>> = {
  ExceptionGrant: {
    description: 'The rule/value pairs an exception may grant; POST /admin/exceptions checks its rule and value against these.',
    zod: ExceptionGrantSchema,
  },
};

/** Descriptions of the `{param}`s route paths use. */
export const PATH_PARAMETERS: Readonly<Record<string, string>> = {
  client_id: 'The client identifier issued at registration.',
  review_id: 'The review, as named in the reviewer’s signed link.',
  request_id: 'A change request of the consumer (an exception or a reinstatement), as the admin API lists it.',
};

const dependencyDown = ['503', problemBody('A dependency is unavailable; nothing was changed. Retry after the given delay.', RETRY_AFTER)] as const;
const conflict = ['409', problemBody('The consumer’s state does not allow this, or the record changed meanwhile; nothing was changed.')] as const;
const notFound = ['404', problemBody('No such consumer.')] as const;
const invalidRequest = ['400', problemBody('The request does not match the schema (`detail` names the fields).')] as const;
const oauthClientFailed = ['401', oauthError('invalid_client: client authentication failed.', WWW_AUTHENTICATE)] as const;

const reviewErrors = [
  ['403', htmlPage('The link is invalid, not for an eligible reviewer, or the decision did not come from the review page.')],
  ['409', htmlPage('The review was already decided.')],
  ['410', htmlPage('The review period has ended.')],
  ['503', htmlPage('Try again in a moment.', RETRY_AFTER)],
] as const;

/** RFC 9449 section 8: present when the policy requires DPoP server nonces. */
const DPOP_NONCE = {
  'DPoP-Nonce': { description: 'The nonce the next DPoP proof must carry (RFC 9449 §8), when the policy requires server nonces.', schema: { type: 'string' } },
} as const;
const LOCATION = { Location: { description: 'The registration_client_uri.', schema: { type: 'string', format: 'uri' } } } as const;
const registrationError = (description: string) => ({ description, content: { [MEDIA.json]: { schema: ref('RegistrationError') } } });

const reasonBody: BodySpec = { mediaType: MEDIA.json, name: 'ReasonBody', zod: ReasonBody };

/**
 * Every route's operation, keyed like ROUTES. The document generator refuses a route without an entry here and an entry
 * without a route, so the table and the document cannot drift apart.
 */
export const OPERATIONS: Readonly<Record<RouteKey, OperationSpec>> = {
  'POST /register': {
    operationId: 'registerClient',
    tag: 'Registration',
    description:
      'Registers an API consumer. The access policy decides: low risk is approved at once (201, with credentials); higher risk waits for human review (202, credentials follow on approval); a breach of policy is refused (403, with reasons). Unknown metadata members are ignored (RFC 7591 §2).',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Makes a retry return the first response instead of registering twice (draft-ietf-httpapi-idempotency-key-header).',
        schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
      },
    ],
    body: { mediaType: MEDIA.json, name: 'ClientMetadata', zod: ClientMetadataSchema },
    responses: responses(
      ['201', jsonBody('Approved and active: the response carries the credentials, once.', 'ClientInformation', LOCATION)],
      ['202', jsonBody('Accepted for human review; no credentials yet.', 'ClientInformation', LOCATION)],
      ['400', registrationError('invalid_client_metadata, invalid_software_statement, unapproved_software_statement or idempotency_key_invalid (RFC 7591).')],
      ['403', jsonBody('access_denied: the policy refuses the request; `reasons` say why.', 'RegistrationDenied')],
      ['409', problemBody('A concurrent change; nothing was registered. Retry.')],
      ['422', registrationError('idempotency_key_reused: the key was used with a different request.')],
      [
        '429',
        {
          ...registrationError(
            'registration_quota_exceeded: this address used up its registrations without a software statement for the day (policy `registrationQuotas.anonymousPerIpPerDay`); nothing was registered.',
          ),
          headers: RETRY_AFTER,
        },
      ],
      dependencyDown,
    ),
  },
  'GET /register/{client_id}': {
    operationId: 'readRegistration',
    tag: 'Registration',
    description:
      'RFC 7592 read: the registration and its status, with the registration_access_token presented (RFC 7592 §3; not rotated); a client_secret appears when the client holds one (how a rotated secret is picked up).',
    security: [{ registrationAccessToken: [] }],
    responses: responses(
      ['200', jsonBody('The client information.', 'ClientInformation')],
      ['401', oauthError('invalid_token: missing, or not valid for this client (unknown clients look the same).', WWW_AUTHENTICATE)],
      dependencyDown,
    ),
  },
  'POST /oauth2/token': {
    operationId: 'issueToken',
    tag: 'OAuth',
    security: [{ clientSecretBasic: [] }, {}],
    parameters: [
      {
        name: 'DPoP',
        in: 'header',
        required: false,
        description: 'RFC 9449 DPoP proof; required for clients whose risk demands sender-constrained tokens.',
        schema: { type: 'string' },
      },
    ],
    body: { mediaType: MEDIA.form, name: 'TokenRequest' },
    responses: responses(
      ['200', jsonBody('An RFC 9068 access token.', 'TokenResponse', DPOP_NONCE)],
      [
        '400',
        oauthError(
          'invalid_request, unsupported_grant_type, invalid_scope, invalid_dpop_proof, use_dpop_nonce, unauthorized_client or invalid_grant (RFC 6749 §5.2, RFC 9449).',
          DPOP_NONCE,
        ),
      ],
      oauthClientFailed,
      dependencyDown,
    ),
  },
  'POST /oauth2/introspect': {
    operationId: 'introspectToken',
    tag: 'OAuth',
    security: [{ clientSecretBasic: [] }, {}],
    body: { mediaType: MEDIA.form, name: 'IntrospectionRequest' },
    responses: responses(
      ['200', jsonBody('The token’s state; `active: false` for anything not active now.', 'IntrospectionResponse')],
      ['400', oauthError('invalid_request, or unauthorized_client when the caller lacks the tokens:introspect scope.')],
      oauthClientFailed,
      dependencyDown,
    ),
  },
  'POST /oauth2/revoke': {
    operationId: 'revokeToken',
    tag: 'OAuth',
    security: [{ clientSecretBasic: [] }, {}],
    body: { mediaType: MEDIA.form, name: 'RevocationRequest' },
    responses: responses(
      [
        '200',
        {
          description: 'Revoked, or not a token of ours (RFC 7009 §2.2 answers both alike).',
          content: { [MEDIA.json]: { schema: { type: 'object', maxProperties: 0 } } },
        },
      ],
      ['400', oauthError('invalid_request, or unauthorized_client when the token belongs to another client.')],
      oauthClientFailed,
      dependencyDown,
    ),
  },
  'GET /reviews/{review_id}': {
    operationId: 'openReview',
    tag: 'Reviews',
    description: 'The page a reviewer opens from the emailed link. Opening it changes nothing; it sets the CSRF cookie the decision form needs.',
    parameters: [{ name: 't', in: 'query', required: true, description: 'The signed, single-use review link token.', schema: { type: 'string' } }],
    responses: responses(
      [
        '200',
        htmlPage('The request and the approve/deny forms.', {
          'Set-Cookie': { description: 'gh_csrf, HttpOnly, SameSite=Strict, scoped to this review.', schema: { type: 'string' } },
        }),
      ],
      ...reviewErrors,
    ),
  },
  'POST /reviews/{review_id}': {
    operationId: 'decideReview',
    tag: 'Reviews',
    description: 'Posted by the review page: approve, or deny with a reason. The Origin (when sent) must be the issuer’s.',
    parameters: [{ name: 'gh_csrf', in: 'cookie', required: true, description: 'The CSRF cookie set by the review page.', schema: { type: 'string' } }],
    body: { mediaType: MEDIA.form, name: 'ReviewDecision' },
    responses: responses(['200', htmlPage('The decision is recorded.')], ['400', htmlPage('A denial needs a reason.')], ...reviewErrors),
  },
  'GET /.well-known/jwks.json': {
    operationId: 'getJwks',
    tag: 'Discovery',
    responses: responses(
      ['200', jsonBody('The published signing keys (current and next), public parts only.', 'JsonWebKeySet', CACHE_CONTROL)],
      dependencyDown,
    ),
  },
  'GET /oauth2/revocations': {
    operationId: 'getRevocationList',
    tag: 'Discovery',
    description:
      'A JWT signed with the access-token key (`typ: revocation-list+jwt`, verify it with the JWKS) listing what resource servers must refuse although signature and `exp` hold: `revoked_tokens` (`jti`, `exp`) and `revoked_clients` (`client_id`, `status`, `since`: refuse the client’s tokens with `iat` at or before it). Valid for 10 minutes (`exp`); fetch it again at least every 30 seconds.',
    responses: responses(
      [
        '200',
        {
          description: 'The signed revocation list.',
          headers: CACHE_CONTROL,
          content: { [MEDIA.jwt]: { schema: { type: 'string', description: 'A compact JWS.' } } },
        },
      ],
      dependencyDown,
    ),
  },
  'GET /.well-known/oauth-authorization-server': {
    operationId: 'getAuthorizationServerMetadata',
    tag: 'Discovery',
    responses: responses(['200', jsonBody('RFC 8414 metadata for this issuer.', 'AuthorizationServerMetadata', CACHE_CONTROL)]),
  },
  'GET /openapi.json': {
    operationId: 'getOpenApiDocument',
    tag: 'Discovery',
    responses: responses(['200', jsonBody('This document, with this deployment as the first server.', 'OpenApiDocument', CACHE_CONTROL)]),
  },
  'GET /admin/consumers': {
    operationId: 'listConsumers',
    tag: 'Admin',
    query: { name: 'ListConsumersQuery', zod: ListConsumersQuery },
    responses: responses(
      ['200', jsonBody('A page of consumers.', 'ConsumerPage')],
      ['400', problemBody('A query parameter is invalid, or the cursor is not one this API issued.')],
      dependencyDown,
    ),
  },
  'GET /admin/consumers/{client_id}': {
    operationId: 'getConsumer',
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('The consumer, its change requests and its audit trail, the hash chain verified.', 'ConsumerWithAudit')],
      notFound,
      dependencyDown,
    ),
  },
  'POST /admin/consumers/{client_id}/suspend': {
    operationId: 'suspendConsumer',
    tag: 'Admin',
    body: reasonBody,
    responses: responses(
      ['200', jsonBody('Suspended; its tokens stop working at once.', 'ConsumerResult')],
      invalidRequest,
      notFound,
      conflict,
      dependencyDown,
    ),
  },
  'POST /admin/consumers/{client_id}/terminate': {
    operationId: 'terminateConsumer',
    tag: 'Admin',
    body: reasonBody,
    responses: responses(['200', jsonBody('Revoked for good.', 'ConsumerResult')], invalidRequest, notFound, conflict, dependencyDown),
  },
  'POST /admin/consumers/{client_id}/rotate-secret': {
    operationId: 'rotateConsumerSecret',
    tag: 'Admin',
    body: { mediaType: MEDIA.json, name: 'RotateSecretBody', zod: RotateSecretBody },
    responses: responses(
      [
        '202',
        jsonBody(
          'Rotation started; the new secret is read with the registration access token. With `compromised`, the old secret and registration access token ended at once, and the new token is in the answer.',
          'RotationStarted',
        ),
      ],
      invalidRequest,
      notFound,
      conflict,
      dependencyDown,
    ),
  },
  'GET /admin/consumers/{client_id}/evidence': {
    operationId: 'getConsumerEvidence',
    tag: 'Admin',
    responses: responses(['200', jsonBody('Evidence for auditors.', 'Evidence')], notFound, dependencyDown),
  },
  'POST /admin/consumers/{client_id}/review-links': {
    operationId: 'resendReviewLinks',
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('Fresh links sent to the reviewers of the open round; the earlier links stop working.', 'ReviewLinksResent')],
      notFound,
      ['409', problemBody('The consumer is not pending review, no round is open right now, or its review period ended; nothing was changed.')],
      dependencyDown,
    ),
  },
  'POST /admin/consumers/{client_id}/requests/{request_id}/review-links': {
    operationId: 'resendRequestReviewLinks',
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('Fresh links sent to the reviewers of the open round; the earlier links stop working.', 'ReviewLinksResent')],
      ['404', problemBody('No such consumer or request.')],
      ['409', problemBody('The request is not pending review, no round is open right now, or its review period ended; nothing was changed.')],
      dependencyDown,
    ),
  },
  'POST /admin/consumers/{client_id}/reinstate': {
    operationId: 'requestReinstatement',
    tag: 'Admin',
    body: reasonBody,
    responses: responses(
      ['202', jsonBody('Asked: reviewers decide; the consumer stays suspended until they approve.', 'ReinstatementRequested')],
      invalidRequest,
      notFound,
      [
        '409',
        problemBody(
          'consumer-not-eligible (not suspended, or its grant ended), out-of-policy, or request-pending (one is already under review); nothing was requested.',
        ),
      ],
      dependencyDown,
    ),
  },
  'POST /admin/exceptions': {
    operationId: 'requestException',
    tag: 'Admin',
    description: 'The rule and value must also be one of the pairs ExceptionGrant allows (each rule has its own values); anything else is a 400.',
    body: { mediaType: MEDIA.json, name: 'ExceptionBody', zod: ExceptionBody },
    responses: responses(
      ['202', jsonBody('Asked: reviewers decide; nothing is relaxed before they approve.', 'ExceptionRequested')],
      ['400', problemBody('The body does not match the schema, or invalid-exception (e.g. expires_at in the past, beyond the policy’s limit or the grant).')],
      ['403', problemBody('exception-not-allowed: the policy allows no exceptions at this consumer’s risk.')],
      notFound,
      ['409', problemBody('exception-not-needed, consumer-not-eligible or request-pending; nothing was requested.')],
      dependencyDown,
    ),
  },
  'GET /admin/exceptions': {
    operationId: 'listExceptions',
    tag: 'Admin',
    query: { name: 'ListExceptionsQuery', zod: ListExceptionsQuery },
    responses: responses(
      ['200', jsonBody('A page of exceptions, newest first.', 'ExceptionPage')],
      ['400', problemBody('A query parameter is invalid, or the cursor is not one this API issued.')],
      dependencyDown,
    ),
  },
  'POST /admin/policy/evaluate': {
    operationId: 'evaluatePolicy',
    tag: 'Admin',
    body: { mediaType: MEDIA.json, name: 'EvaluateBody', zod: EvaluateBody },
    responses: responses(['200', jsonBody('The decision the deployed policy would make.', 'PolicyDecision')], invalidRequest),
  },
};
