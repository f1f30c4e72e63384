import { ASYMMETRIC_ALGS } from '../core/oauth/client-assertion.js';
import { routePath, routeUrl } from '../contracts/routes.js';
import { REVOCATION_LIST_METADATA } from '../core/revocation/document.js';
import type { BaseServices, Needs } from '../core/services.js';
import { SIGNING_ALG, signingKeysFor } from '../core/tokens/signing-keys.js';
import { HttpError } from './http/errors.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { publicJson } from './http/respond.js';
import published from '../../openapi.json' with { type: 'json' };
import type { OpenApiDocument } from './openapi/document.js';

/** RFC 8414 authorization server metadata for this deployment. */
export function serverMetadata(services: BaseServices): Record<string, unknown> {
  const issuer = services.config.issuer;
  return {
    issuer,
    token_endpoint: routeUrl(issuer, 'issueToken'),
    jwks_uri: routeUrl(issuer, 'getJwks'),
    registration_endpoint: routeUrl(issuer, 'registerClient'),
    grant_types_supported: ['client_credentials'],
    // No response_types_supported: RFC 8414 erratum 7793 reads it as REQUIRED only when a grant type using the
    // authorization endpoint is supported (none is here), and section 3.2 says claims with zero elements MUST be omitted.
    // So neither [] (omitted by 3.2) nor ["none"] (a response type of the authorization endpoint this server lacks).
    introspection_endpoint: routeUrl(issuer, 'introspectToken'),
    revocation_endpoint: routeUrl(issuer, 'revokeToken'),
    token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
    token_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    introspection_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
    introspection_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    dpop_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    scopes_supported: Object.keys(services.policy.document.scopes),
    access_token_signing_alg_values_supported: [SIGNING_ALG],
    ...(services.config.serviceDocumentation ? { service_documentation: services.config.serviceDocumentation } : {}),
    // The `aud` of every access token (RFC 9068): what a resource server checks, published so it needs no side channel.
    gatehouse_access_token_audience: services.config.tokenAudience,
    gatehouse_policy_version: services.policy.version,
    // The signed revocation list resource servers refuse tokens by (revoked ids, consumers whose access ended).
    [REVOCATION_LIST_METADATA]: routeUrl(issuer, 'getRevocationList'),
  };
}

/**
 * The OpenAPI document as this deployment serves it: the copy published in the repository, with this deployment's issuer
 * as the server clients are sent to. The published copy is what the generator makes from the route table and the request
 * schemas (test/lambdas/handlers/openapi/document.test.ts fails when it is out of date), so serving it keeps zod and the
 * generator out of the discovery function (about 125 KB of its bundle) and builds nothing at run time.
 */
export function servedOpenApiDocument(services: BaseServices): OpenApiDocument {
  return { ...(published as unknown as OpenApiDocument), servers: [{ url: services.config.issuer, description: 'This deployment (its issuer URL).' }] };
}

/** GET /.well-known/jwks.json, /.well-known/oauth-authorization-server and /openapi.json. */
export function createDiscoveryHandler(services: Needs<never, 'vault'>): HttpLambda {
  const keys = signingKeysFor(services, 60_000);
  const openApi = servedOpenApiDocument(services);
  return httpHandler(services, async (event) => {
    if (event.resource === routePath('getJwks')) return publicJson(await keys.jwks(), 300);
    if (event.resource === '/.well-known/oauth-authorization-server') return publicJson(serverMetadata(services), 3600);
    if (event.resource === '/openapi.json') return publicJson(openApi, 3600);
    throw new HttpError('not_found', `No such document: ${event.path}`);
  });
}
