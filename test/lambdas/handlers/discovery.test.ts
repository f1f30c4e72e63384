import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SigningKeySet, Vault } from '../../../lambdas/core/ports.js';
import { generateSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { createDiscoveryHandler, serverMetadata } from '../../../lambdas/handlers/discovery.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { defaultPolicy, TestClock } from '../fixtures.js';
import { bodyOf, buildServices, httpEvent, ISSUER, lambdaContext, TOKEN_AUDIENCE } from './fixtures.js';
import { vaultOver } from '../../../lambdas/core/tokens/public-keys.js';

const ddb = mockClient(DynamoDBDocumentClient);

describe('createDiscoveryHandler', () => {
  let keys: SigningKeySet;
  let vault: Vault & { getSigningKeys: ReturnType<typeof vi.fn> };
  let clock: TestClock;
  let handler: HttpLambda;
  let services: ReturnType<typeof buildServices>;

  const get = (resource: string): Promise<APIGatewayProxyResult> => handler(httpEvent({ method: 'GET', resource }), lambdaContext);

  beforeEach(async () => {
    const [current, pending] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    keys = { current, published: [pending, current] };
    vault = vaultOver(vi.fn(async () => keys));
    clock = new TestClock();
    services = buildServices({ jwks: { keys: [] }, clock });
    handler = createDiscoveryHandler({ ...services, vault });
  });

  afterEach(() => {
    ddb.reset();
  });

  it('publishes the current and every published key once, public parts only, as a cacheable JWKS', async () => {
    const response = await get('/.well-known/jwks.json');

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    const jwks = bodyOf(response) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((k) => k['kid'])).toEqual([keys.current.kid, keys.published[0]!.kid]);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reads the vault once a minute at most', async () => {
    await get('/.well-known/jwks.json');
    await get('/.well-known/jwks.json');
    clock.advance(59_000);
    await get('/.well-known/jwks.json');
    expect(vault.getSigningKeys).toHaveBeenCalledTimes(1);

    clock.advance(1_000);
    await get('/.well-known/jwks.json');
    expect(vault.getSigningKeys).toHaveBeenCalledTimes(2);
  });

  it('publishes RFC 8414 metadata for the issuer', async () => {
    const response = await get('/.well-known/oauth-authorization-server');

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'public, max-age=3600' });
    expect(bodyOf(response)).toEqual(serverMetadata(services));
    expect(bodyOf(response)).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/oauth2/token`,
      jwks_uri: `${ISSUER}/.well-known/jwks.json`,
      registration_endpoint: `${ISSUER}/register`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
      introspection_endpoint: `${ISSUER}/oauth2/introspect`,
      introspection_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
      revocation_endpoint: `${ISSUER}/oauth2/revoke`,
      revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_signing_alg_values_supported: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
      dpop_signing_alg_values_supported: ['ES256', 'PS256', 'Ed25519', 'EdDSA'],
      access_token_signing_alg_values_supported: ['ES256'],
      scopes_supported: Object.keys(defaultPolicy.document.scopes),
      gatehouse_policy_version: defaultPolicy.version,
    });
    expect(vault.getSigningKeys).not.toHaveBeenCalled();
  });

  it('never advertises a symmetric or unsigned algorithm for client authentication or DPoP', () => {
    const metadata = serverMetadata(services);
    const algLists = Object.entries(metadata).filter(([name]) => name.endsWith('_alg_values_supported'));

    expect(algLists.map(([name]) => name)).toHaveLength(5);
    for (const [, algs] of algLists) {
      for (const alg of algs as string[]) expect(alg).not.toMatch(/^(none|HS\d+|RS\d+)$/);
    }
  });

  it('publishes the access-token audience, so resource servers need no side channel', () => {
    expect(serverMetadata(services)['gatehouse_access_token_audience']).toBe(TOKEN_AUDIENCE);
  });

  it('omits response_types_supported (RFC 8414 erratum 7793: no grant type here uses the authorization endpoint)', () => {
    expect(serverMetadata(services)).not.toHaveProperty('response_types_supported');
    expect(serverMetadata(services)).not.toHaveProperty('authorization_endpoint');
  });

  it('publishes service_documentation only when configured, and then as configured', () => {
    expect(serverMetadata(services)).not.toHaveProperty('service_documentation');

    const documented = { ...services, config: { ...services.config, serviceDocumentation: 'https://developer.bank.example/gatehouse' } };
    expect(serverMetadata(documented)['service_documentation']).toBe('https://developer.bank.example/gatehouse');
  });

  it('lists the introspection scope among the supported scopes', () => {
    expect(serverMetadata(services)['scopes_supported']).toContain('tokens:introspect');
  });

  it('answers 404 for any other document', async () => {
    const response = await get('/.well-known/openid-configuration');

    expect(response.statusCode).toBe(404);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json' });
    expect(bodyOf(response)).toMatchObject({ type: 'https://gatehouse.dev/problems/not-found', status: 404 });
  });

  it('answers 500 without details when the vault fails', async () => {
    vault.getSigningKeys.mockRejectedValueOnce(new Error('vault exploded: secret=abc'));

    const response = await get('/.well-known/jwks.json');

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('vault exploded');
  });
});
