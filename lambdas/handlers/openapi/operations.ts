import type * as z from 'zod/mini';
import type { OperationId } from '../../contracts/routes.js';
import { ExceptionGrantSchema } from '../../core/exceptions/rules.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../../core/idempotency/seal.js';
import { ClientMetadataSchema } from '../../core/registration/metadata.js';
import {
  EvaluateBody,
  ExceptionBody,
  ListConsumersQuery,
  ListExceptionsQuery,
  ListRecertificationsQuery,
  ReasonBody,
  RotateSecretBody,
} from '../admin-schemas.js';
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

const attestationErrors = [
  ['403', htmlPage('The link is invalid or the answer did not come from the attestation page.')],
  ['409', htmlPage('The link was already used, someone already attested, or the consumer is no longer active.')],
  ['410', htmlPage('The attestation period has ended.')],
  ['503', htmlPage('Try again in a moment.', RETRY_AFTER)],
] as const;

/** RFC 9449 section 8: present when the policy requires DPoP server nonces. */
const DPOP_NONCE = {
  'DPoP-Nonce': { description: 'The nonce the next DPoP proof must carry (RFC 9449 §8), when the policy requires server nonces.', schema: { type: 'string' } },
} as const;
const LOCATION = { Location: { description: 'The registration_client_uri.', schema: { type: 'string', format: 'uri' } } } as const;
const registrationError = (description: string) => ({ description, content: { [MEDIA.json]: { schema: ref('RegistrationError') } } });

const reasonBody: BodySpec = { mediaType: MEDIA.json, name: 'ReasonBody', zod: ReasonBody };

/** Every route's operation, by the route's operationId; the compiler refuses a route without an entry. */
export const OPERATIONS: Readonly<Record<OperationId, OperationSpec>> = {
  registerClient: {
    tag: 'Registration',
    description:
      'Registers an API consumer. The access policy decides: low risk is approved at once (201, with credentials); higher risk waits for human review (202, credentials follow on approval); a breach of policy is refused (403, with reasons). Unknown metadata members are ignored (RFC 7591 §2). A private_key_jwt client gives its public keys inline (jwks) or the https URL where it publishes them (jwks_uri, never both): the URL is fetched once here and must serve a JWK Set of public keys from a public address, without redirects, within 3 s and 64 KiB, or the request is refused with invalid_client_metadata naming the rule broken.',
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
  readRegistration: {
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
  updateRegistration: {
    tag: 'Registration',
    description:
      'RFC 7592 update: the body replaces the registration (send everything the read returned, with client_id; client_secret may be left out, and must be the issued one if sent; tier cannot change). Changes that narrow access (fewer scopes or data classes, an earlier end) or only change the record (name, contacts, keys) apply at once (200). Changes that extend access or weaken a control (another scope or data class, a later end, a new purpose) are decided by the policy as a registration is: approved at once (200), sent to human review (202 with `update_request`; the current grant stays in force until approval), or refused (403). Keys removed from jwks stay accepted for the policy grace window (clientAssertions.keyRolloverGraceHours, default 24 h). token_endpoint_auth_method may change: to private_key_jwt (with jwks or jwks_uri) at once, the old client_secret accepted for the policy secret grace window (secretGraceDays, default 7 days); from private_key_jwt to a secret method through the policy, the new client_secret returned once in the answer and the old keys accepted for the key rollover grace; between client_secret_basic and client_secret_post at once. A changed contact list is notified to the new and the previous contacts. Every accepted update replaces the registration_access_token; the answer carries the new one.',
    security: [{ registrationAccessToken: [] }],
    body: { mediaType: MEDIA.json, name: 'ClientMetadata', zod: ClientMetadataSchema },
    responses: responses(
      ['200', jsonBody('Applied: the updated client information with a new registration_access_token.', 'ClientInformation')],
      ['202', jsonBody('Sent to human review: the current client information, a new registration_access_token and `update_request`.', 'ClientInformation')],
      ['400', registrationError('invalid_client_metadata, invalid_software_statement or unapproved_software_statement (RFC 7591); nothing was changed.')],
      ['401', oauthError('invalid_token: missing, or not valid for this client (unknown and deleted clients look the same).', WWW_AUTHENTICATE)],
      ['403', jsonBody('access_denied: the policy refuses the update; `reasons` say why. Nothing was changed.', 'RegistrationDenied')],
      [
        '409',
        registrationError(
          'update_conflict: another update, read or delete changed the registration while this one ran, an update is already under review, or the registration is not active or suspended; nothing was changed.',
        ),
      ],
      dependencyDown,
    ),
  },
  deleteRegistration: {
    tag: 'Registration',
    description:
      "RFC 7592 delete: the consumer is revoked at once (no new tokens; tokens already issued are reported inactive and listed on /oauth2/revocations), its client secret is scheduled for deletion and its contacts are told. A registration still under review is withdrawn instead: its status becomes `withdrawn`, its review ends (reviewers' links say so) and its contacts are told. The registration access token ends with it, so a repeated delete gets 401 (RFC 7592 §2.3).",
    security: [{ registrationAccessToken: [] }],
    responses: responses(
      ['204', { description: 'Deleted: the consumer is revoked, or withdrawn if it was still under review.' }],
      ['401', oauthError('invalid_token: missing, or not valid for this client (unknown and already deleted clients look the same).', WWW_AUTHENTICATE)],
      [
        '409',
        registrationError(
          'update_conflict: the registration has no access to end (denied, expired, failed, withdrawn, revoked) or changed meanwhile (its review ended); nothing was changed.',
        ),
      ],
      dependencyDown,
    ),
  },
  issueToken: {
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
  introspectToken: {
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
  revokeToken: {
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
  openReview: {
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
  decideReview: {
    tag: 'Reviews',
    description: 'Posted by the review page: approve, or deny with a reason. The Origin (when sent) must be the issuer’s.',
    parameters: [{ name: 'gh_csrf', in: 'cookie', required: true, description: 'The CSRF cookie set by the review page.', schema: { type: 'string' } }],
    body: { mediaType: MEDIA.form, name: 'ReviewDecision' },
    responses: responses(['200', htmlPage('The decision is recorded.')], ['400', htmlPage('A denial needs a reason.')], ...reviewErrors),
  },
  openAttestation: {
    tag: 'Reviews',
    description:
      'The page a consumer’s contact opens from the emailed attestation link when its periodic recertification falls due: what the consumer holds and what it actually used. Opening it changes nothing; it sets the CSRF cookie the forms need.',
    parameters: [{ name: 't', in: 'query', required: true, description: 'The signed, single-use attestation link token.', schema: { type: 'string' } }],
    responses: responses(
      [
        '200',
        htmlPage('The consumer’s grant and usage, with the confirm (drop scopes) and deregister forms.', {
          'Set-Cookie': { description: 'gh_rcsrf, HttpOnly, SameSite=Strict, scoped to this consumer.', schema: { type: 'string' } },
        }),
      ],
      ...attestationErrors,
    ),
  },
  attest: {
    tag: 'Reviews',
    description:
      'Posted by the attestation page: confirm the access is still needed (optionally dropping scopes, at once), or deregister (revoked at once). High risk: a bank reviewer confirms the attestation before the next period starts. The Origin (when sent) must be the issuer’s.',
    parameters: [{ name: 'gh_rcsrf', in: 'cookie', required: true, description: 'The CSRF cookie set by the attestation page.', schema: { type: 'string' } }],
    body: { mediaType: MEDIA.form, name: 'AttestationAnswer' },
    responses: responses(
      ['200', htmlPage('The answer is recorded.')],
      ['400', htmlPage('The choice is invalid (e.g. dropping every scope).')],
      ...attestationErrors,
    ),
  },
  getJwks: {
    tag: 'Discovery',
    responses: responses(
      ['200', jsonBody('The published signing keys (current and next), public parts only.', 'JsonWebKeySet', CACHE_CONTROL)],
      dependencyDown,
    ),
  },
  getRevocationList: {
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
  getAuthorizationServerMetadata: {
    tag: 'Discovery',
    responses: responses(['200', jsonBody('RFC 8414 metadata for this issuer.', 'AuthorizationServerMetadata', CACHE_CONTROL)]),
  },
  getOpenApiDocument: {
    tag: 'Discovery',
    responses: responses(['200', jsonBody('This document, with this deployment as the first server.', 'OpenApiDocument', CACHE_CONTROL)]),
  },
  listConsumers: {
    tag: 'Admin',
    query: { name: 'ListConsumersQuery', zod: ListConsumersQuery },
    responses: responses(
      ['200', jsonBody('A page of consumers.', 'ConsumerPage')],
      ['400', problemBody('A query parameter is invalid, or the cursor is not one this API issued.')],
      dependencyDown,
    ),
  },
  getConsumer: {
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('The consumer, its change requests and its audit trail, the hash chain verified.', 'ConsumerWithAudit')],
      notFound,
      dependencyDown,
    ),
  },
  suspendConsumer: {
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
  terminateConsumer: {
    tag: 'Admin',
    body: reasonBody,
    responses: responses(['200', jsonBody('Revoked for good.', 'ConsumerResult')], invalidRequest, notFound, conflict, dependencyDown),
  },
  rotateConsumerSecret: {
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
  getConsumerEvidence: {
    tag: 'Admin',
    responses: responses(['200', jsonBody('Evidence for auditors.', 'Evidence')], notFound, dependencyDown),
  },
  resendReviewLinks: {
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('Fresh links sent to the reviewers of the open round; the earlier links stop working.', 'ReviewLinksResent')],
      notFound,
      ['409', problemBody('The consumer is not pending review, no round is open right now, or its review period ended; nothing was changed.')],
      dependencyDown,
    ),
  },
  resendRequestReviewLinks: {
    tag: 'Admin',
    responses: responses(
      ['200', jsonBody('Fresh links sent to the reviewers of the open round; the earlier links stop working.', 'ReviewLinksResent')],
      ['404', problemBody('No such consumer or request.')],
      ['409', problemBody('The request is not pending review, no round is open right now, or its review period ended; nothing was changed.')],
      dependencyDown,
    ),
  },
  requestReinstatement: {
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
  requestException: {
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
  listExceptions: {
    tag: 'Admin',
    query: { name: 'ListExceptionsQuery', zod: ListExceptionsQuery },
    responses: responses(
      ['200', jsonBody('A page of exceptions, newest first.', 'ExceptionPage')],
      ['400', problemBody('A query parameter is invalid, or the cursor is not one this API issued.')],
      dependencyDown,
    ),
  },
  listRecertifications: {
    tag: 'Admin',
    query: { name: 'ListRecertificationsQuery', zod: ListRecertificationsQuery },
    responses: responses(
      [
        '200',
        jsonBody('A page of consumers whose recertification is upcoming, due, awaiting a reviewer, overdue, or suspended for it.', 'RecertificationPage'),
      ],
      ['400', problemBody('A query parameter is invalid, or the cursor is not one this API issued.')],
      dependencyDown,
    ),
  },
  evaluatePolicy: {
    tag: 'Admin',
    body: { mediaType: MEDIA.json, name: 'EvaluateBody', zod: EvaluateBody },
    responses: responses(['200', jsonBody('The decision the deployed policy would make.', 'PolicyDecision')], invalidRequest),
  },
};
