import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { calculateJwkThumbprint, decodeJwt } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import { INTROSPECT_SCOPE } from '../../../lambdas/core/oauth/introspect.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createIntrospectionHandler } from '../../../lambdas/handlers/introspection.js';
import { createRevocationHandler } from '../../../lambdas/handlers/revocation.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { clientKey, INTROSPECTION_ENDPOINT, JWT_BEARER, keyBoundConsumer, NOW_S, signAssertion, signProof, type ClientKey } from '../core/oauth/fixtures.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, TestClock } from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, httpEvent, ISSUER, lambdaContext, TOKEN_AUDIENCE } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

const RESOURCE_SERVER = 'gh_resourceserver000';
const RS_SECRET = 'resource-server-secret-that-is-long-enough';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (init: Record<string, string>) => new URLSearchParams(init).toString();

function expectNothingWritten(): void {
  expect(ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand || c.args[0] instanceof QueryCommand))).toHaveLength(0);
}

describe('createIntrospectionHandler', () => {
  let table: FakeTable;
  let clock: TestClock;
  let services: ReturnType<typeof buildServices>;
  let introspection: HttpLambda;
  let tokenEndpoint: HttpLambda;
  let revocation: HttpLambda;
  let dpopKey: ClientKey;

  beforeAll(async () => {
    dpopKey = await clientKey('EdDSA');
  });

  const post = (handler: HttpLambda, resource: string, body: string, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> =>
    handler(httpEvent({ method: 'POST', resource, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body }), lambdaContext);

  const introspect = (token: string, authorization = basic(RESOURCE_SERVER, RS_SECRET), extra: Record<string, string> = {}) =>
    post(introspection, '/oauth2/introspect', form({ token, ...extra }), { Authorization: authorization });

  /** A token from the real token endpoint, for CLIENT_ID. */
  const issue = async (headers: Record<string, string> = {}): Promise<string> => {
    const response = await post(tokenEndpoint, '/oauth2/token', 'grant_type=client_credentials', {
      Authorization: basic(CLIENT_ID, CLIENT_SECRET),
      ...headers,
    });
    expect(response.statusCode).toBe(200);
    return String(bodyOf(response)['access_token']);
  };

  const expectOAuthError = (response: APIGatewayProxyResult, status: number, error: string) => {
    expect(response.statusCode).toBe(status);
    expect(bodyOf(response)).toEqual({ error, error_description: expect.any(String) });
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json' });
    expect(response.body).not.toContain('"active"');
  };

  const build = (consumerCacheMs = 0) => {
    services = buildServices({ jwks: { keys: [] }, clock, vault: new FileVault() });
    const configured = { ...services, config: { ...services.config, consumerCacheMs } };
    introspection = createIntrospectionHandler(configured);
    tokenEndpoint = createTokenHandler(configured);
    revocation = createRevocationHandler(configured);
  };

  beforeEach(() => {
    table = new FakeTable(ddb);
    clock = new TestClock();
    build();
    table.putConsumer(consumerFixture());
    table.putConsumer(consumerFixture({ clientId: RESOURCE_SERVER, tier: 'internal', scopes: [INTROSPECT_SCOPE], secretHash: sha256B64u(RS_SECRET) }));
  });

  afterEach(() => {
    ddb.reset();
  });

  it('describes an active token (RFC 7662) and writes nothing', async () => {
    const token = await issue();
    ddb.resetHistory();

    const response = await introspect(token);

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json' });
    expect(bodyOf(response)).toEqual({
      active: true,
      scope: 'reference-data:read',
      client_id: CLIENT_ID,
      sub: CLIENT_ID,
      aud: TOKEN_AUDIENCE,
      iss: ISSUER,
      exp: NOW_S + 3600,
      iat: NOW_S,
      jti: decodeJwt(token).jti,
      token_type: 'Bearer',
      tier: 'public',
      risk: 'low',
    });
    expectNothingWritten();
  });

  it('describes a DPoP-bound token with its confirmation', async () => {
    const token = await issue({ DPoP: await signProof(dpopKey) });

    const body = bodyOf(await introspect(token));

    expect(body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await calculateJwkThumbprint(dpopKey.jwk) } });
  });

  it('answers active false right after the token’s consumer is suspended', async () => {
    const token = await issue();
    expect(bodyOf(await introspect(token))).toMatchObject({ active: true });

    table.patchConsumer(CLIENT_ID, { status: 'suspended' });

    expect(bodyOf(await introspect(token))).toEqual({ active: false });
  });

  it('answers active false for a token issued at or before the second a secret compromise revokes through, and true after it', async () => {
    const leaked = await issue();
    table.patchConsumer(CLIENT_ID, { tokensRevokedThrough: NOW_S });
    expect(bodyOf(await introspect(leaked))).toEqual({ active: false });

    // The token endpoint issues nothing until that second has passed; the next token is described as active.
    const waiting = await post(tokenEndpoint, '/oauth2/token', 'grant_type=client_credentials', { Authorization: basic(CLIENT_ID, CLIENT_SECRET) });
    expectOAuthError(waiting, 503, 'temporarily_unavailable');
    expect(waiting.headers?.['retry-after']).toBe('1');
    clock.advance(1000);
    const fresh = await issue();
    expect(bodyOf(await introspect(fresh))).toMatchObject({ active: true, iat: NOW_S + 1 });
  });

  it('answers active false right after a suspension even when consumers are cached', async () => {
    build(60_000);
    const token = await issue();
    expect(bodyOf(await introspect(token))).toMatchObject({ active: true });

    table.patchConsumer(CLIENT_ID, { status: 'suspended' });

    expect(bodyOf(await introspect(token))).toEqual({ active: false });
  });

  it.each(['revoked', 'expired'] as const)('answers active false once the token’s consumer is %s', async (status) => {
    const token = await issue();

    table.patchConsumer(CLIENT_ID, { status });

    expect(bodyOf(await introspect(token))).toEqual({ active: false });
  });

  it('answers active false right after the token is revoked', async () => {
    const token = await issue();
    expect(bodyOf(await introspect(token))).toMatchObject({ active: true });

    const revoked = await post(revocation, '/oauth2/revoke', form({ token }), { Authorization: basic(CLIENT_ID, CLIENT_SECRET) });
    expect(revoked.statusCode).toBe(200);

    expect(bodyOf(await introspect(token))).toEqual({ active: false });
    // Revoking one token leaves the client's other tokens active.
    expect(bodyOf(await introspect(await issue()))).toMatchObject({ active: true });
  });

  it('answers active false once the token has expired', async () => {
    const token = await issue();
    clock.advance(3600_000);

    expect(bodyOf(await introspect(token))).toEqual({ active: false });
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['a JWT nobody signed', 'eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.'],
  ])('answers active false for %s', async (_name, token) => {
    expect(bodyOf(await introspect(token))).toEqual({ active: false });
  });

  it('authenticates a key-bound resource server by an assertion addressed to the introspection endpoint', async () => {
    const key = await clientKey('PS256');
    table.putConsumer(keyBoundConsumer([key], { clientId: RESOURCE_SERVER, tier: 'internal', scopes: [INTROSPECT_SCOPE] }));
    const token = await issue();
    const assertion = await signAssertion(key, { iss: RESOURCE_SERVER, sub: RESOURCE_SERVER, aud: INTROSPECTION_ENDPOINT });

    const response = await post(introspection, '/oauth2/introspect', form({ token, client_assertion_type: JWT_BEARER, client_assertion: assertion }));

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({ active: true });
  });

  describe('refusals', () => {
    it('answers 400 unauthorized_client to a caller without tokens:introspect, writing nothing', async () => {
      const token = await issue();
      ddb.resetHistory();

      const response = await introspect(token, basic(CLIENT_ID, CLIENT_SECRET));

      expectOAuthError(response, 400, 'unauthorized_client');
      expectNothingWritten();
    });

    it('answers 401 invalid_client with a Basic challenge to a wrong secret, writing nothing', async () => {
      const token = await issue();
      ddb.resetHistory();

      const response = await introspect(token, basic(RESOURCE_SERVER, 'wrong'));

      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers!['www-authenticate']).toMatch(/^Basic realm="gatehouse"/);
      expectNothingWritten();
    });

    it('answers 401 invalid_client to a suspended resource server', async () => {
      const token = await issue();
      table.patchConsumer(RESOURCE_SERVER, { status: 'suspended' });

      expectOAuthError(await introspect(token), 401, 'invalid_client');
    });

    it('answers 400 invalid_request without a token, writing nothing', async () => {
      const response = await post(introspection, '/oauth2/introspect', '', { Authorization: basic(RESOURCE_SERVER, RS_SECRET) });

      expectOAuthError(response, 400, 'invalid_request');
      expectNothingWritten();
    });

    it('answers 400 invalid_request to a repeated token', async () => {
      const response = await post(introspection, '/oauth2/introspect', 'token=a&token=b', { Authorization: basic(RESOURCE_SERVER, RS_SECRET) });

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_request to a JSON body', async () => {
      const response = await introspection(
        httpEvent({
          method: 'POST',
          resource: '/oauth2/introspect',
          headers: { 'Content-Type': 'application/json', Authorization: basic(RESOURCE_SERVER, RS_SECRET) },
          body: '{"token":"x"}',
        }),
        lambdaContext,
      );

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });
  });
});
