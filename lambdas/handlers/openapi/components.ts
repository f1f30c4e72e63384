import { CLIENT_ASSERTION_TYPE } from '../../core/oauth/client-assertion.js';
import type { JsonSchema } from './json-schema.js';

/** An OpenAPI Response Object. */
export interface ResponseSpec {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
  readonly content?: Readonly<Record<string, { readonly schema: JsonSchema }>>;
}

export type Responses = Readonly<Record<string, ResponseSpec>>;

/** An OpenAPI Parameter Object. */
export interface ParameterSpec {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

/** A reference to a schema under `components.schemas`. */
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/**
 * Media types as the handlers send them: OAuth and registration errors are plain JSON (RFC 6749 §5.2, RFC 7591 §3.2.2),
 * every other refusal is RFC 9457 problem JSON, reviewers get HTML pages.
 */
export const MEDIA = {
  json: 'application/json',
  problem: 'application/problem+json',
  form: 'application/x-www-form-urlencoded',
  html: 'text/html',
  jwt: 'application/jwt',
} as const;

const string = { type: 'string' } as const;
const integer = { type: 'integer' } as const;
const stringArray = { type: 'array', items: string } as const;

/** Response models and the OAuth forms: what the handlers send and the RFC parameters core/oauth reads. */
export const SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  OAuthError: {
    type: 'object',
    description: 'RFC 6749 §5.2 error response (also RFC 6750 / RFC 9449 codes on bearer- and DPoP-protected endpoints).',
    properties: { error: string, error_description: string },
    required: ['error'],
  },
  RegistrationError: {
    type: 'object',
    description: 'RFC 7591 §3.2.2 error response; `field` names the offending metadata member when known.',
    properties: {
      error: {
        type: 'string',
        enum: [
          'invalid_client_metadata',
          'invalid_software_statement',
          'unapproved_software_statement',
          'idempotency_key_reused',
          'idempotency_key_invalid',
          'invalid_request',
          'registration_quota_exceeded',
        ],
      },
      error_description: string,
      field: string,
      limit: { type: 'integer', description: 'With registration_quota_exceeded: the registrations allowed per address and day.' },
    },
    required: ['error'],
  },
  RegistrationDenied: {
    type: 'object',
    description: 'The access policy denied the registration; the reasons say which rules were broken.',
    properties: {
      error: { const: 'access_denied' },
      error_description: string,
      policy_version: string,
      risk: string,
      reasons: { type: 'array', items: ref('PolicyReason') },
    },
    required: ['error', 'policy_version', 'risk', 'reasons'],
  },
  PolicyReason: {
    type: 'object',
    properties: { code: string, message: string, subject: string },
    required: ['code', 'message'],
  },
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details.',
    properties: { type: { type: 'string', format: 'uri' }, title: string, status: integer, detail: string },
    required: ['type', 'title', 'status'],
  },
  GatewayMessage: {
    type: 'object',
    description: "API Gateway's own refusal (e.g. an unsigned or unauthorised call to an IAM route), sent before any Gatehouse code runs.",
    properties: { message: string },
  },
  ClientInformation: {
    type: 'object',
    description:
      'RFC 7591 §3.2.1 / RFC 7592 client information response with Gatehouse governance fields. client_secret and registration_access_token appear when issued, and on an RFC 7592 read (the current secret; the token presented).',
    properties: {
      client_id: string,
      client_id_issued_at: integer,
      client_secret: string,
      client_secret_expires_at: integer,
      registration_access_token: string,
      registration_client_uri: { type: 'string', format: 'uri' },
      client_name: string,
      grant_types: { type: 'array', items: { const: 'client_credentials' } },
      token_endpoint_auth_method: { type: 'string', enum: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] },
      scope: string,
      contacts: stringArray,
      tier: string,
      purpose: string,
      data_classes: stringArray,
      expires_at: { type: 'string', format: 'date-time' },
      status: string,
      risk: string,
      policy_version: string,
      reasons: { type: 'array', items: ref('PolicyReason') },
      access_token_ttl: integer,
      approvals_required: integer,
      approvals_granted: integer,
      dpop_bound_access_tokens: { type: 'boolean' },
      outcome_reason: string,
      software_id: string,
      jwks: ref('JsonWebKeySet'),
      jwks_uri: { type: 'string', format: 'uri', description: 'Where the client publishes its public keys (private_key_jwt); never with jwks.' },
      update_request: ref('UpdateRequest'),
    },
    required: ['client_id', 'client_id_issued_at', 'registration_client_uri', 'client_name', 'scope', 'status', 'risk', 'policy_version'],
  },
  UpdateRequest: {
    type: 'object',
    description:
      'The latest RFC 7592 update that needed human review: on the 202 answer to the update, and on later reads until another update needs review. The registration changes only once it is approved.',
    properties: {
      request_id: string,
      status: { type: 'string', enum: ['pending_review', 'approved', 'denied', 'expired', 'failed'] },
      changes: stringArray,
      outcome_reason: string,
    },
    required: ['request_id', 'status', 'changes'],
  },
  TokenRequest: {
    type: 'object',
    description:
      'RFC 6749 §4.4.2 client credentials request. The client authenticates with HTTP Basic (client_secret_basic), with client_id and client_secret here (client_secret_post), or with a signed assertion (private_key_jwt, RFC 7523).',
    properties: {
      grant_type: { const: 'client_credentials' },
      scope: { type: 'string', description: 'Space-separated subset of the granted scopes; all granted scopes when absent.' },
      ...clientAuthFields(),
    },
    required: ['grant_type'],
  },
  IntrospectionRequest: {
    type: 'object',
    description: 'RFC 7662 §2.1 request; the caller authenticates as at the token endpoint and needs the tokens:introspect scope.',
    properties: { token: string, token_type_hint: string, ...clientAuthFields() },
    required: ['token'],
  },
  RevocationRequest: {
    type: 'object',
    description: 'RFC 7009 §2.1 request; a client revokes only its own access tokens. token_type_hint is accepted and ignored.',
    properties: { token: string, token_type_hint: string, ...clientAuthFields() },
    required: ['token'],
  },
  TokenResponse: {
    type: 'object',
    description: 'RFC 6749 §5.1; the access token is an RFC 9068 JWT, DPoP-bound (RFC 9449) when token_type is DPoP.',
    properties: { access_token: string, token_type: { type: 'string', enum: ['Bearer', 'DPoP'] }, expires_in: integer, scope: string },
    required: ['access_token', 'token_type', 'expires_in', 'scope'],
  },
  IntrospectionResponse: {
    type: 'object',
    description: 'RFC 7662 §2.2; only `active` when the token is not active.',
    properties: {
      active: { type: 'boolean' },
      scope: string,
      client_id: string,
      sub: string,
      aud: { oneOf: [string, stringArray] },
      iss: string,
      exp: integer,
      iat: integer,
      jti: string,
      token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
      cnf: { type: 'object', properties: { jkt: string } },
      tier: string,
      risk: string,
    },
    required: ['active'],
  },
  JsonWebKeySet: {
    type: 'object',
    description: 'RFC 7517 JWK Set (public keys only).',
    properties: { keys: { type: 'array', items: { type: 'object', properties: { kty: string, kid: string, alg: string, use: string }, required: ['kty'] } } },
    required: ['keys'],
  },
  AuthorizationServerMetadata: {
    type: 'object',
    description:
      'RFC 8414 authorization server metadata. No response_types_supported: RFC 8414 erratum 7793 requires it only of servers with a grant type that uses the authorization endpoint, and this one has none.',
    properties: {
      issuer: { type: 'string', format: 'uri' },
      token_endpoint: { type: 'string', format: 'uri' },
      jwks_uri: { type: 'string', format: 'uri' },
      registration_endpoint: { type: 'string', format: 'uri' },
      introspection_endpoint: { type: 'string', format: 'uri' },
      revocation_endpoint: { type: 'string', format: 'uri' },
      grant_types_supported: stringArray,
      token_endpoint_auth_methods_supported: stringArray,
      scopes_supported: stringArray,
      dpop_signing_alg_values_supported: stringArray,
      service_documentation: { type: 'string', format: 'uri', description: 'Present only when the deployment configures it.' },
      gatehouse_access_token_audience: { type: 'string', description: 'The `aud` of every access token (RFC 9068), for resource servers to check.' },
      gatehouse_policy_version: string,
      gatehouse_revocation_list_uri: {
        type: 'string',
        format: 'uri',
        description: 'The signed revocation list (a `revocation-list+jwt` JWT) that resource servers refuse tokens by.',
      },
    },
    required: ['issuer', 'token_endpoint', 'jwks_uri', 'grant_types_supported', 'gatehouse_access_token_audience'],
  },
  ReviewDecision: {
    type: 'object',
    description: 'Posted by the review page itself: the link token and the CSRF token come from its hidden fields.',
    properties: {
      decision: { type: 'string', enum: ['approve', 'deny'] },
      comment: { type: 'string', maxLength: 2000, description: 'Required when denying.' },
      t: { type: 'string', description: 'The signed review link token.' },
      csrf: { type: 'string', description: 'Must equal the gh_csrf cookie the page set.' },
    },
    required: ['decision', 't', 'csrf'],
  },
  Consumer: {
    type: 'object',
    description: 'A consumer as operators see it: the registry record without secret or token hashes.',
    properties: {
      clientId: string,
      clientName: string,
      status: string,
      tier: string,
      risk: string,
      scopes: stringArray,
      expiresAt: { type: 'string', format: 'date-time' },
    },
    required: ['clientId', 'status'],
  },
  ConsumerResult: {
    type: 'object',
    properties: { consumer: ref('Consumer') },
    required: ['consumer'],
  },
  ConsumerPage: {
    type: 'object',
    properties: { consumers: { type: 'array', items: ref('Consumer') }, next_cursor: { type: 'string', description: 'Pass as `cursor` for the next page.' } },
    required: ['consumers'],
  },
  ConsumerWithAudit: {
    type: 'object',
    properties: {
      consumer: ref('Consumer'),
      audit: {
        type: 'object',
        properties: { chain_verified: { type: 'boolean' }, broken_at: integer, events: { type: 'array', items: { type: 'object' } } },
        required: ['chain_verified', 'events'],
      },
      requests: { type: 'array', items: ref('ChangeRequest') },
    },
    required: ['consumer', 'audit'],
  },
  Evidence: {
    type: 'object',
    description: 'Audit evidence for one consumer: the verified audit chain and the controls it demonstrates (OWASP NHI, NIST CSF).',
  },
  RotationStarted: {
    type: 'object',
    properties: {
      client_id: string,
      rotation: { const: 'started' },
      requested_by: string,
      requested_by_person: string,
      compromised: { const: true },
      registration_access_token: { type: 'string', description: 'After a reported compromise: the new registration access token, shown once.' },
    },
    required: ['client_id', 'rotation', 'requested_by'],
  },
  ReviewLinksResent: {
    type: 'object',
    description: 'Fresh single-use links went to the open round’s reviewers; the earlier links of that round no longer work.',
    properties: {
      client_id: string,
      request_id: string,
      review_id: string,
      round: integer,
      deadline: string,
      recipients: { type: 'array', items: string },
      not_sent: { type: 'array', items: string, description: 'Recipients whose email could not be sent; resend again.' },
      resent_by: string,
      resent_by_person: string,
    },
    required: ['client_id', 'review_id', 'round', 'deadline', 'recipients', 'resent_by'],
  },
  PolicyDecision: {
    type: 'object',
    description: 'What the deployed policy would decide; nothing is stored.',
    properties: {
      dry_run: { const: true },
      outcome: string,
      risk: string,
      requirements: { type: 'object' },
      reasons: { type: 'array', items: ref('PolicyReason') },
      policyVersion: string,
    },
    required: ['dry_run', 'outcome', 'risk', 'reasons', 'policyVersion'],
  },
  ChangeRequest: {
    type: 'object',
    description: 'A change that reviewers decide (a reinstatement or a time-boxed policy exception).',
    properties: {
      request_id: string,
      type: string,
      client_id: string,
      status: string,
      rule: string,
      value: { anyOf: [string, integer] },
      expires_at: { type: 'string', format: 'date-time' },
      justification: string,
      requested_by: { type: 'string', description: 'The person (operator email) who asked; never one of its reviewers.' },
      requested_by_principal: { type: 'string', description: 'The IAM principal that signed the request.' },
      risk: string,
      approvals_required: integer,
      approvals: { type: 'array', items: { type: 'object', properties: { reviewer: string, at: string, comment: string }, required: ['reviewer', 'at'] } },
      outcome_reason: string,
      created_at: string,
      updated_at: string,
    },
    required: ['request_id', 'type', 'client_id', 'status', 'requested_by', 'created_at'],
  },
  ReinstatementRequested: {
    type: 'object',
    properties: { request: ref('ChangeRequest') },
    required: ['request'],
  },
  ExceptionRequested: {
    type: 'object',
    properties: { exception: ref('ChangeRequest') },
    required: ['exception'],
  },
  AttestationAnswer: {
    type: 'object',
    description: 'Posted by the attestation page itself: the link token and the CSRF token come from its hidden fields.',
    properties: {
      action: { type: 'string', enum: ['confirm', 'deregister'] },
      drop: { type: 'array', items: { type: 'string' }, description: 'Scopes to drop with a confirmation (repeated field); at least one scope must remain.' },
      sure: { type: 'string', enum: ['yes'], description: 'Required to deregister.' },
      t: { type: 'string', description: 'The signed attestation link token.' },
      csrf: { type: 'string', description: 'Must equal the gh_rcsrf cookie the page set.' },
    },
    required: ['action', 't', 'csrf'],
  },
  RecertificationPage: {
    type: 'object',
    properties: {
      recertifications: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            clientId: { type: 'string' },
            clientName: { type: 'string' },
            risk: { type: 'string', enum: ['low', 'medium', 'high'] },
            status: { type: 'string' },
            state: { type: 'string', enum: ['upcoming', 'due', 'awaiting_reviewer', 'overdue', 'suspended'] },
            dueAt: { type: 'string', format: 'date-time' },
            suspendAt: { type: 'string', format: 'date-time' },
            linksSentAt: { type: 'string', format: 'date-time' },
            contacts: { type: 'array', items: { type: 'string' } },
            last: {
              type: 'object',
              description: 'The last attestation: when, by which contact, the scopes removed, and the bank reviewers who confirmed it (high risk).',
              properties: {
                at: { type: 'string', format: 'date-time' },
                attestedBy: { type: 'string' },
                scopesRemoved: { type: 'array', items: { type: 'string' } },
                confirmedBy: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          required: ['clientId', 'clientName', 'risk', 'status', 'state', 'dueAt', 'suspendAt', 'contacts'],
        },
      },
      next_cursor: { type: 'string', description: 'Pass as `cursor` for the next page.' },
    },
    required: ['recertifications'],
  },
  ExceptionPage: {
    type: 'object',
    properties: {
      exceptions: { type: 'array', items: ref('ChangeRequest') },
      next_cursor: { type: 'string', description: 'Pass as `cursor` for the next page.' },
    },
    required: ['exceptions'],
  },
  OpenApiDocument: {
    type: 'object',
    description: 'This OpenAPI 3.1 document.',
    properties: { openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' }, info: { type: 'object' }, paths: { type: 'object' } },
    required: ['openapi', 'info', 'paths'],
  },
};

function clientAuthFields(): Record<string, JsonSchema> {
  return {
    client_id: { type: 'string', description: 'client_secret_post (or alongside Basic / an assertion, where it must match).' },
    client_secret: { type: 'string', description: 'client_secret_post only; never together with Basic.' },
    client_assertion_type: { const: CLIENT_ASSERTION_TYPE, description: 'private_key_jwt (RFC 7523 §2.2).' },
    client_assertion: { type: 'string', description: 'private_key_jwt: a single-use JWT signed with a registered key.' },
  };
}

/** The security schemes routes use; `iam` routes take SigV4 in AWS and the admin token in local mode. */
export const SECURITY_SCHEMES: Readonly<Record<string, JsonSchema>> = {
  iamSigV4: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'AWS Signature Version 4 (API Gateway IAM authorization): sign the request as an IAM principal allowed execute-api:Invoke on the route. OpenAPI has no SigV4 scheme type; this is the form API Gateway itself uses.',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  localAdminToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'Local mode only: the admin token printed by `npm start` (also in <data dir>/admin-token) stands in for SigV4.',
  },
  clientSecretBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'RFC 6749 §2.3.1 client_secret_basic. client_secret_post and private_key_jwt travel in the form body instead.',
  },
  registrationAccessToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'RFC 7592 registration access token, issued once in the registration response.',
  },
};

/** A JSON success response. */
export function jsonBody(description: string, schema: string, headers?: ResponseSpec['headers']): ResponseSpec {
  return { description, ...(headers ? { headers } : {}), content: { [MEDIA.json]: { schema: ref(schema) } } };
}

/** An RFC 6749-style error: `{ error, error_description }` as plain JSON. */
export function oauthError(description: string, headers?: ResponseSpec['headers']): ResponseSpec {
  return { description, ...(headers ? { headers } : {}), content: { [MEDIA.json]: { schema: ref('OAuthError') } } };
}

/** An RFC 9457 problem. */
export function problemBody(description: string, headers?: ResponseSpec['headers']): ResponseSpec {
  return { description, ...(headers ? { headers } : {}), content: { [MEDIA.problem]: { schema: ref('Problem') } } };
}

/** An HTML page for a person (the review routes). */
export function htmlPage(description: string, headers?: ResponseSpec['headers']): ResponseSpec {
  return { description, ...(headers ? { headers } : {}), content: { [MEDIA.html]: { schema: { type: 'string' } } } };
}

export const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } } as const;
export const WWW_AUTHENTICATE = {
  'WWW-Authenticate': {
    description:
      'The challenge for the way the client authenticated (RFC 9110 §11.6.1, RFC 6749 §5.2, RFC 6750 §3): Basic for client_secret_basic; `private_key_jwt` or `client_secret_post` (the method as scheme name) for the form-body methods; every method when none was tried; Bearer for a registration access token.',
    schema: { type: 'string' },
  },
} as const;

/** An RFC 7591 error body, for the edge's refusals on registration routes (413, 415, 400). */
export function registrationRefusal(description: string): ResponseSpec {
  return { description, content: { [MEDIA.json]: { schema: ref('RegistrationError') } } };
}
export const CACHE_CONTROL = { 'Cache-Control': { description: 'How long the document may be cached.', schema: { type: 'string' } } } as const;

/**
 * Responses under their status codes; two responses for the same status are one response with both media types (e.g.
 * registration's 400 is RFC 7591 JSON for bad metadata, problem JSON for a body that is not JSON at all), or with their
 * descriptions joined when they share the media type and schema.
 */
export function responses(...entries: readonly (readonly [status: string, response: ResponseSpec])[]): Responses {
  const out: Record<string, ResponseSpec> = {};
  for (const [status, response] of entries) {
    const existing = out[status];
    if (!existing) {
      out[status] = response;
      continue;
    }
    for (const [media, body] of Object.entries(response.content ?? {})) {
      const before = existing.content?.[media];
      if (before && JSON.stringify(before) !== JSON.stringify(body)) throw new Error(`OpenAPI: status ${status} has two different ${media} schemas`);
    }
    out[status] = {
      description: `${existing.description} ${response.description}`,
      ...(existing.headers || response.headers ? { headers: { ...existing.headers, ...response.headers } } : {}),
      content: { ...existing.content, ...response.content },
    };
  }
  return out;
}
