import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import type { Consumer } from '../../../lambdas/core/consumer/consumer.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, HOUR_MS, NOW, TestClock } from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, httpEvent, ISSUER, lambdaContext, TOKEN_AUDIENCE } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function expectNothingWritten(): void {
  expect(ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand || c.args[0] instanceof QueryCommand))).toHaveLength(0);
}

describe('createTokenHandler', () => {
  let table: FakeTable;
  let clock: TestClock;
  let vault: FileVault;
  let services: ReturnType<typeof buildServices>;
  let handler: HttpLambda;

  const tokenRequest = (form: string, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> =>
    handler(
      httpEvent({
        method: 'POST',
        resource: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        body: form,
      }),
      lambdaContext,
    );

  const withBasic = (form = 'grant_type=client_credentials', id = CLIENT_ID, secret = CLIENT_SECRET) =>
    tokenRequest(form, { Authorization: basic(id, secret) });

  const seed = (overrides: Partial<Consumer> = {}) => table.putConsumer(consumerFixture(overrides));

  const expectOAuthError = (response: APIGatewayProxyResult, status: number, error: string) => {
    expect(response.statusCode).toBe(status);
    expect(bodyOf(response)).toEqual({ error, error_description: expect.any(String) });
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json' });
    expect(response.body).not.toContain('access_token');
  };

  beforeEach(() => {
    table = new FakeTable(ddb);
    clock = new TestClock();
    vault = new FileVault();
    services = buildServices({ jwks: { keys: [] }, clock, vault });
    handler = createTokenHandler(services);
    seed();
  });

  afterEach(() => {
    ddb.reset();
  });

  describe('client credentials grant', () => {
    it('issues an RFC 9068 access token that verifies against the vault’s key', async () => {
      const response = await withBasic();

      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache', 'content-type': 'application/json' });
      const body = bodyOf(response);
      expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'reference-data:read' });

      const { current } = await vault.getSigningKeys();
      const jwks = createLocalJWKSet({ keys: [current.publicJwk as JWK] });
      const token = String(body['access_token']);
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer: ISSUER,
        audience: TOKEN_AUDIENCE,
        typ: 'at+jwt',
        algorithms: ['ES256'],
        currentDate: clock.now(),
      });
      expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: current.kid });
      expect(payload).toMatchObject({ sub: CLIENT_ID, client_id: CLIENT_ID, scope: 'reference-data:read', tier: 'public', risk: 'low' });
      expect(payload.iat).toBe(Math.floor(NOW.getTime() / 1000));
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it('gives every token its own jti', async () => {
      const a = String(bodyOf(await withBasic())['access_token']);
      const b = String(bodyOf(await withBasic())['access_token']);

      const { current } = await vault.getSigningKeys();
      const jwks = createLocalJWKSet({ keys: [current.publicJwk as JWK] });
      const opts = { currentDate: clock.now() };
      expect((await jwtVerify(a, jwks, opts)).payload.jti).not.toBe((await jwtVerify(b, jwks, opts)).payload.jti);
      expect(decodeProtectedHeader(a).kid).toBe(current.kid);
    });

    it('narrows the token to the requested scopes', async () => {
      seed({ scopes: ['reference-data:read', 'accounts:read'] });

      const response = await withBasic('grant_type=client_credentials&scope=accounts%3Aread');

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)['scope']).toBe('accounts:read');
    });

    it('accepts client_secret_post for a client registered with it', async () => {
      seed({ authMethod: 'client_secret_post' });

      const response = await tokenRequest(
        new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString(),
      );

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toMatchObject({ token_type: 'Bearer', scope: 'reference-data:read' });
    });

    it('decodes form-encoded Basic credentials (RFC 6749 §2.3.1)', async () => {
      const secret = 'se:cr+et/with%special chars';
      seed({ secretHash: sha256B64u(secret) });

      const response = await withBasic('grant_type=client_credentials', CLIENT_ID, secret);

      expect(response.statusCode).toBe(200);
    });
  });

  describe('client authentication failures', () => {
    it('answers 401 invalid_client with a Basic challenge for a wrong secret', async () => {
      const response = await withBasic('grant_type=client_credentials', CLIENT_ID, 'wrong-secret');

      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers!['www-authenticate']).toMatch(/^Basic realm="gatehouse"/);
      expectNothingWritten();
    });

    it('answers 401 invalid_client for an unknown client, exactly as for a wrong secret', async () => {
      const unknown = await withBasic('grant_type=client_credentials', 'gh_nobody', CLIENT_SECRET);
      const wrong = await withBasic('grant_type=client_credentials', CLIENT_ID, 'wrong-secret');

      expectOAuthError(unknown, 401, 'invalid_client');
      expect(bodyOf(unknown)).toEqual(bodyOf(wrong));
      expectNothingWritten();
    });

    it('answers 401 invalid_client when no credentials are presented', async () => {
      const response = await tokenRequest('grant_type=client_credentials');

      expectOAuthError(response, 401, 'invalid_client');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 401 invalid_client for malformed Basic credentials', async () => {
      const response = await tokenRequest('grant_type=client_credentials', { Authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` });

      expectOAuthError(response, 401, 'invalid_client');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 401 invalid_client when the client uses another method than it registered', async () => {
      const response = await tokenRequest(
        new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }).toString(),
      );

      expectOAuthError(response, 401, 'invalid_client');
      expectNothingWritten();
    });

    it('answers 400 invalid_request when both Basic and client_secret_post are used', async () => {
      const response = await withBasic(new URLSearchParams({ grant_type: 'client_credentials', client_secret: CLIENT_SECRET }).toString());

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_request when client_id in the body differs from the Basic one', async () => {
      const response = await withBasic('grant_type=client_credentials&client_id=gh_someone_else');

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it.each([
      ['suspended', { status: 'suspended' }],
      ['revoked', { status: 'revoked' }],
      ['pending review', { status: 'pending_review' }],
      ['past its grant expiry', { expiresAt: new Date(NOW.getTime() - 1000).toISOString() }],
      ['holding an expired secret', { secretExpiresAt: new Date(NOW.getTime() - 1000).toISOString() }],
    ] satisfies [string, Partial<Consumer>][])('answers 401 invalid_client for a client %s', async (_name, overrides) => {
      seed(overrides);

      const response = await withBasic();

      expectOAuthError(response, 401, 'invalid_client');
      expectNothingWritten();
    });

    it('answers 401 invalid_client once the grant expires under a running instance', async () => {
      expect((await withBasic()).statusCode).toBe(200);
      clock.advance(31 * DAY_MS);

      expectOAuthError(await withBasic(), 401, 'invalid_client');
    });
  });

  describe('request errors', () => {
    it('answers 400 unsupported_grant_type for another grant', async () => {
      const response = await withBasic('grant_type=authorization_code&code=abc');

      expectOAuthError(response, 400, 'unsupported_grant_type');
      expectNothingWritten();
    });

    it('answers 400 invalid_request without grant_type', async () => {
      const response = await withBasic('scope=reference-data%3Aread');

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_scope for a scope the client was not granted', async () => {
      const response = await withBasic('grant_type=client_credentials&scope=reference-data%3Aread+payments%3Ainitiate');

      expectOAuthError(response, 400, 'invalid_scope');
      expect(bodyOf(response)['error_description']).toContain('payments:initiate');
      expectNothingWritten();
    });

    it('answers 400 invalid_scope for an empty scope', async () => {
      expectOAuthError(await withBasic('grant_type=client_credentials&scope='), 400, 'invalid_scope');
      expectNothingWritten();
    });

    it.each(['application/json', 'text/plain', 'multipart/form-data; boundary=x'])(
      'answers 400 invalid_request for a %s body',
      async (contentType) => {
        const response = await handler(
          httpEvent({
            method: 'POST',
            resource: '/oauth2/token',
            headers: { 'Content-Type': contentType, Authorization: basic(CLIENT_ID, CLIENT_SECRET) },
            body: JSON.stringify({ grant_type: 'client_credentials' }),
          }),
          lambdaContext,
        );

        expectOAuthError(response, 400, 'invalid_request');
        expect(ddb.calls()).toHaveLength(0);
      },
    );

    it.each(['grant_type', 'scope', 'client_id'])('answers 400 invalid_request when %s is repeated', async (name) => {
      const value = name === 'grant_type' ? 'client_credentials' : name === 'scope' ? 'reference-data:read' : CLIENT_ID;
      const form = new URLSearchParams([['grant_type', 'client_credentials']]);
      form.append(name, value);
      if (name !== 'grant_type') form.append(name, value);

      const response = await withBasic(form.toString());

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 413 for a body over maxBodyBytes', async () => {
      const response = await withBasic(`grant_type=client_credentials&pad=${'x'.repeat(services.config.maxBodyBytes)}`);

      expect(response.statusCode).toBe(413);
      expect(bodyOf(response)).toMatchObject({ type: 'https://gatehouse.dev/problems/payload-too-large', status: 413 });
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('dormancy tracking', () => {
    const recordedUses = () => ddb.commandCalls(UpdateCommand);

    it('writes lastUsedAt at most once an hour however many tokens are issued', async () => {
      expect((await withBasic()).statusCode).toBe(200);
      expect((await withBasic()).statusCode).toBe(200);
      expect(recordedUses()).toHaveLength(1);
      expect(recordedUses()[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':now': NOW.toISOString() });

      clock.advance(HOUR_MS - 1000);
      expect((await withBasic()).statusCode).toBe(200);
      expect(recordedUses()).toHaveLength(1);

      clock.advance(2000);
      expect((await withBasic()).statusCode).toBe(200);
      expect(recordedUses()).toHaveLength(2);
      expect(recordedUses()[1]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':now': clock.now().toISOString() });
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ lastUsedAt: clock.now().toISOString() });

      // Token issuance never touches the consumer through a transaction.
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });

    it('still issues the token when recording the use fails', async () => {
      ddb.on(UpdateCommand).rejects(new Error('throttled'));

      const response = await withBasic();

      expect(response.statusCode).toBe(200);
      expect(services.log.warn).toHaveBeenCalledWith('could not record use', expect.objectContaining({ clientId: CLIENT_ID }));
    });
  });
});
