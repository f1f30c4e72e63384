import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import type { Consumer } from '../../../lambdas/core/consumer/consumer.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import {
  assertionClaims,
  CLIENT_ALGS,
  clientKey,
  hmacJwt,
  JWT_BEARER,
  keyBoundConsumer,
  NOW_S,
  publicKeyBytes,
  signAssertion,
  signProof,
  TOKEN_ENDPOINT,
  unsignedJwt,
  type ClientAlg,
  type ClientKey,
} from '../core/oauth/fixtures.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, defaultPolicy, HOUR_MS, NOW, TestClock } from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, httpEvent, ISSUER, lambdaContext, TABLE, TOKEN_AUDIENCE } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function expectNothingWritten(): void {
  expect(ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand || c.args[0] instanceof QueryCommand))).toHaveLength(0);
}

describe('createTokenHandler', () => {
  let table: FakeTable;
  let clock: TestClock;
  let vault: FileVault;
  let services: ReturnType<typeof buildServices>;
  let handler: HttpLambda;

  const tokenRequest = (form: string, headers: Record<string, string> = {}, multiValueHeaders?: Record<string, string[]>): Promise<APIGatewayProxyResult> =>
    handler(
      httpEvent({
        method: 'POST',
        resource: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
        ...(multiValueHeaders ? { multiValueHeaders } : {}),
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
      expect(JSON.parse(response.body).error_description).toBe('Only client_credentials is supported, not authorization_code.');
      expectNothingWritten();
    });

    it('does not echo a grant_type with control characters or other text, which would come back mangled', async () => {
      for (const value of ['%09%0A', 'caf%C3%A9', 'x'.repeat(65)]) {
        const response = await withBasic(`grant_type=${value}`);
        expectOAuthError(response, 400, 'unsupported_grant_type');
        expect(JSON.parse(response.body).error_description).toBe('Only client_credentials is supported, not the grant_type sent.');
      }
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

    it.each(['application/json', 'text/plain', 'multipart/form-data; boundary=x'])('answers 400 invalid_request for a %s body', async (contentType) => {
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
    });

    it.each(['grant_type', 'scope', 'client_id'])('answers 400 invalid_request when %s is repeated', async (name) => {
      const value = name === 'grant_type' ? 'client_credentials' : name === 'scope' ? 'reference-data:read' : CLIENT_ID;
      const form = new URLSearchParams([['grant_type', 'client_credentials']]);
      form.append(name, value);
      if (name !== 'grant_type') form.append(name, value);

      const response = await withBasic(form.toString());

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 413 for a body over maxBodyBytes, as an RFC 6749 error an OAuth client can read', async () => {
      const response = await withBasic(`grant_type=client_credentials&pad=${'x'.repeat(services.config.maxBodyBytes)}`);

      expect(response.statusCode).toBe(413);
      expect(response.headers?.['cache-control']).toBe('no-store');
      expect(bodyOf(response)).toEqual({ error: 'invalid_request', error_description: `The request body exceeds ${services.config.maxBodyBytes} bytes.` });
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('metrics', () => {
    it("counts an issued token by the consumer's tier and risk, and nothing else", async () => {
      seed({ tier: 'internal', risk: 'medium' });

      expect((await withBasic()).statusCode).toBe(200);

      expect(services.metrics.snapshot().map((m) => [m.name, m.dimensions, m.sum])).toEqual([['TokensIssued', { tier: 'internal', risk: 'medium' }, 1]]);
    });

    it('counts refusals by OAuth error code and issues nothing for them', async () => {
      expectOAuthError(await withBasic('grant_type=client_credentials', CLIENT_ID, 'wrong-secret-of-the-right-length-000000000'), 401, 'invalid_client');
      expectOAuthError(await withBasic('grant_type=client_credentials&scope=payments:initiate'), 400, 'invalid_scope');
      expectOAuthError(await withBasic('grant_type=client_credentials&scope='), 400, 'invalid_scope');
      expectOAuthError(
        await tokenRequest('grant_type=client_credentials', { 'Content-Type': 'text/plain', Authorization: basic(CLIENT_ID, CLIENT_SECRET) }),
        400,
        'invalid_request',
      );

      expect(services.metrics.total('TokenRequestsRefused', { error: 'invalid_client' })).toBe(1);
      expect(services.metrics.total('TokenRequestsRefused', { error: 'invalid_scope' })).toBe(2);
      expect(services.metrics.total('TokenRequestsRefused', { error: 'invalid_request' })).toBe(1);
      expect(services.metrics.total('TokensIssued')).toBe(0);
    });

    it("counts no refusal when the error is not the client's (a 503 is an outage, not an OAuth refusal)", async () => {
      ddb
        .on(GetCommand)
        .rejects(
          Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 }, $retryable: { throttling: true } }),
        );

      expect((await withBasic()).statusCode).toBe(503);

      expect(services.metrics.snapshot()).toEqual([]);
    });
  });

  describe('dormancy tracking', () => {
    const recordedUses = () => ddb.commandCalls(UpdateCommand).filter((c) => String(c.args[0].input.UpdateExpression).includes('lastUsedAt'));
    const recordedScopes = () => ddb.commandCalls(UpdateCommand).filter((c) => String(c.args[0].input.UpdateExpression).startsWith('ADD usedScopeSet'));

    it('records the first use of each granted scope once, for scope right-sizing', async () => {
      expect((await withBasic()).statusCode).toBe(200);
      expect((await withBasic()).statusCode).toBe(200);

      expect(recordedScopes()).toHaveLength(1);
      expect(recordedScopes()[0]!.args[0].input.ExpressionAttributeValues).toEqual({ ':s': new Set(['reference-data:read']) });
      expect(await services.consumers.getConsumer(CLIENT_ID)).toMatchObject({ usedScopes: ['reference-data:read'] });
    });

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

  /** The claims of an issued token, verified against the vault's key. */
  const issuedClaims = async (response: APIGatewayProxyResult) => {
    const { current } = await vault.getSigningKeys();
    const jwks = createLocalJWKSet({ keys: [current.publicJwk as JWK] });
    return (await jwtVerify(String(bodyOf(response)['access_token']), jwks, { issuer: ISSUER, audience: TOKEN_AUDIENCE, currentDate: clock.now() })).payload;
  };

  /** No token left the endpoint: no access_token in the body and no use recorded (which follows every issuance). */
  const expectNoTokenIssued = (response: APIGatewayProxyResult) => {
    expect(response.body).not.toContain('access_token');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  };

  describe('private_key_jwt', () => {
    const keys = {} as Record<ClientAlg, ClientKey>;

    beforeAll(async () => {
      for (const alg of CLIENT_ALGS) keys[alg] = await clientKey(alg);
    });

    beforeEach(() => {
      table.putConsumer(keyBoundConsumer(Object.values(keys)));
    });

    const withAssertion = (assertion: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      tokenRequest(
        new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra }).toString(),
        headers,
      );

    it.each(CLIENT_ALGS)('issues a token to a client authenticating with a %s assertion', async (alg) => {
      const response = await withAssertion(await signAssertion(keys[alg], { jti: `jti-${alg}` }));

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'reference-data:read' });
      expect(await issuedClaims(response)).toMatchObject({ client_id: CLIENT_ID, sub: CLIENT_ID });
      expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input)).toEqual([
        {
          TableName: TABLE,
          Item: { pk: `MARKER#assertion:${CLIENT_ID}:jti-${alg}`, sk: 'MARKER', kind: 'marker', ttl: NOW_S + 60 + 60 },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': NOW_S },
        },
      ]);
    });

    it('accepts an assertion addressed to the token endpoint', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256, { aud: TOKEN_ENDPOINT }));

      expect(response.statusCode).toBe(200);
    });

    it('accepts a client_id equal to the assertion issuer', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256), { client_id: CLIENT_ID });

      expect(response.statusCode).toBe(200);
    });

    it('answers 401 invalid_client to a replayed assertion and issues no second token', async () => {
      const assertion = await signAssertion(keys.ES256);
      expect((await withAssertion(assertion)).statusCode).toBe(200);
      const usesAfterFirst = ddb.commandCalls(UpdateCommand).length;

      const replay = await withAssertion(assertion);

      expectOAuthError(replay, 401, 'invalid_client');
      expect(bodyOf(replay)['error_description']).toContain('replay');
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(usesAfterFirst);
      expect(table.markers().size).toBe(1);
    });

    it.each([
      ['addressed to another server', () => signAssertion(keys.ES256, { aud: 'https://other-as.example' })],
      ['addressed to another endpoint', () => signAssertion(keys.ES256, { aud: `${ISSUER}/oauth2/revoke` })],
      ['that has expired', () => signAssertion(keys.ES256, { iat: NOW_S - 300, exp: NOW_S - 61 })],
      ['issued far in the future', () => signAssertion(keys.ES256, { iat: NOW_S + 3600, exp: NOW_S + 3660 })],
      ['living longer than 5 minutes', () => signAssertion(keys.PS256, { iat: NOW_S, exp: NOW_S + 301 })],
      ['that is unsigned (alg none)', async () => unsignedJwt(assertionClaims(), { kid: keys.ES256.kid })],
      [
        'signed HS256 with the registered public key as the secret (alg confusion)',
        async () => hmacJwt(await publicKeyBytes(keys.ES256, 'jwk'), assertionClaims(), { kid: keys.ES256.kid }),
      ],
      [
        'signed HS256 with the registered RSA key’s PEM as the secret (alg confusion)',
        async () => hmacJwt(await publicKeyBytes(keys.PS256, 'spki'), assertionClaims(), { kid: keys.PS256.kid }),
      ],
      ['under an unknown kid', () => signAssertion(keys.EdDSA, {}, { kid: 'not-registered' })],
      ['signed by an unregistered key', async () => signAssertion(await clientKey('ES256', keys.ES256.kid))],
      ['whose sub is another client', () => signAssertion(keys.ES256, { sub: 'gh_someoneelse000000' })],
    ])('answers 401 invalid_client to an assertion %s, issuing nothing and claiming no jti', async (_name, make) => {
      const response = await withAssertion(await make());

      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers!['www-authenticate']).toBeDefined();
      expectNoTokenIssued(response);
      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
      expect(table.markers().size).toBe(0);
    });

    it('answers 401 invalid_client when client_id differs from the assertion issuer', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256), { client_id: 'gh_someoneelse000000' });

      expectOAuthError(response, 401, 'invalid_client');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 401 invalid_client for another client_assertion_type', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256), {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      });

      expectOAuthError(response, 401, 'invalid_client');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_request for an assertion together with Basic credentials', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256), {}, { Authorization: basic(CLIENT_ID, CLIENT_SECRET) });

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_request for an assertion together with a client_secret', async () => {
      const response = await withAssertion(await signAssertion(keys.ES256), { client_id: CLIENT_ID, client_secret: CLIENT_SECRET });

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 401 invalid_client to a secret presented for a key-bound client', async () => {
      table.putConsumer(keyBoundConsumer(Object.values(keys), { secretHash: sha256B64u(CLIENT_SECRET) }));

      const response = await withBasic();

      expectOAuthError(response, 401, 'invalid_client');
      expect(bodyOf(response)['error_description']).toBe('Client authentication failed.');
      expectNothingWritten();
    });

    it('answers 401 invalid_client to an assertion from a client registered with a secret, claiming no jti', async () => {
      seed();

      const response = await withAssertion(await signAssertion(keys.ES256));

      expectOAuthError(response, 401, 'invalid_client');
      expectNothingWritten();
    });

    it('answers 401 invalid_client to a suspended key-bound client and issues nothing', async () => {
      table.patchConsumer(CLIENT_ID, { status: 'suspended' });

      const response = await withAssertion(await signAssertion(keys.ES256));

      expectOAuthError(response, 401, 'invalid_client');
      expectNoTokenIssued(response);
    });
  });

  describe('DPoP', () => {
    let dpopKey: ClientKey;
    let otherKey: ClientKey;
    let jkt: string;

    beforeAll(async () => {
      [dpopKey, otherKey] = await Promise.all([clientKey('ES256', 'dpop'), clientKey('EdDSA', 'other')]);
      jkt = await calculateJwkThumbprint(dpopKey.jwk);
    });

    const withProof = async (proof: string | Promise<string>, form = 'grant_type=client_credentials') =>
      tokenRequest(form, { Authorization: basic(CLIENT_ID, CLIENT_SECRET), DPoP: await proof });

    it('binds the token to the proof key: cnf.jkt and token_type DPoP', async () => {
      const response = await withProof(signProof(dpopKey, { jti: 'proof-1' }));

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toMatchObject({ token_type: 'DPoP', expires_in: 3600 });
      expect(await issuedClaims(response)).toMatchObject({ cnf: { jkt } });
      expect(table.markers()).toEqual(new Map([[`dpop:${jkt}:proof-1`, NOW_S + 120]]));
    });

    it.each(CLIENT_ALGS)('accepts a proof signed with %s', async (alg) => {
      const key = alg === 'ES256' ? dpopKey : await clientKey(alg);

      const response = await withProof(signProof(key));

      expect(response.statusCode).toBe(200);
      expect(decodeJwt(String(bodyOf(response)['access_token']))['cnf']).toEqual({ jkt: await calculateJwkThumbprint(key.jwk) });
    });

    it('issues an unbound Bearer token without a proof when the policy does not require one', async () => {
      const response = await withBasic();

      expect(bodyOf(response)['token_type']).toBe('Bearer');
      expect(await issuedClaims(response)).not.toHaveProperty('cnf');
    });

    describe('for a consumer whose policy requires sender-constrained tokens', () => {
      let clientKeyPair: ClientKey;

      beforeAll(async () => {
        clientKeyPair = await clientKey('PS256');
      });

      beforeEach(() => {
        table.putConsumer(keyBoundConsumer([clientKeyPair], { risk: 'high', requirements: defaultPolicy.document.risks.high }));
      });

      const strongRequest = async (headers: Record<string, string> = {}) =>
        tokenRequest(
          new URLSearchParams({
            grant_type: 'client_credentials',
            client_assertion_type: JWT_BEARER,
            client_assertion: await signAssertion(clientKeyPair),
          }).toString(),
          headers,
        );

      it('answers 400 invalid_dpop_proof without a proof and issues nothing', async () => {
        expect(defaultPolicy.document.risks.high.senderConstraint).toBe('dpop');

        const response = await strongRequest();

        expectOAuthError(response, 400, 'invalid_dpop_proof');
        expectNoTokenIssued(response);
        // Only the spent assertion was recorded.
        expect([...table.markers().keys()]).toEqual([expect.stringMatching(/^assertion:/)]);
      });

      it('issues a DPoP-bound token with the policy’s short lifetime when a proof comes', async () => {
        const response = await strongRequest({ DPoP: await signProof(dpopKey) });

        expect(response.statusCode).toBe(200);
        expect(bodyOf(response)).toMatchObject({ token_type: 'DPoP', expires_in: 300 });
        expect(await issuedClaims(response)).toMatchObject({ cnf: { jkt }, risk: 'high' });
      });

      describe('under approved exceptions', () => {
        const exception = (rule: 'sender_constraint' | 'access_token_ttl_seconds', value: 'none' | number, expiresInMs: number) =>
          ({
            rule,
            value,
            exceptionId: `exc-${rule}`,
            grantedAt: NOW.toISOString(),
            expiresAt: new Date(NOW.getTime() + expiresInMs).toISOString(),
            approvers: ['alice.reviewer@bank.example'],
          }) as NonNullable<Consumer['exceptions']>[number];

        it('issues a Bearer token without a proof while a sender_constraint exception is in force, and requires DPoP again once it ends', async () => {
          table.putConsumer(
            keyBoundConsumer([clientKeyPair], {
              risk: 'high',
              requirements: defaultPolicy.document.risks.high,
              exceptions: [exception('sender_constraint', 'none', 60_000)],
            }),
          );

          const waived = await strongRequest();
          expect(waived.statusCode).toBe(200);
          expect(bodyOf(waived)).toMatchObject({ token_type: 'Bearer', expires_in: 300 });

          // The sweep may not have removed it yet: an exception past its end is ignored on the spot.
          clock.advance(61_000);
          expectOAuthError(await strongRequest(), 400, 'invalid_dpop_proof');
        });

        it('issues longer-lived tokens under an access_token_ttl_seconds exception, and only that changes', async () => {
          table.putConsumer(
            keyBoundConsumer([clientKeyPair], {
              risk: 'high',
              requirements: defaultPolicy.document.risks.high,
              exceptions: [exception('access_token_ttl_seconds', 900, DAY_MS)],
            }),
          );

          expectOAuthError(await strongRequest(), 400, 'invalid_dpop_proof');
          const response = await strongRequest({ DPoP: await signProof(dpopKey) });
          expect(bodyOf(response)).toMatchObject({ token_type: 'DPoP', expires_in: 900 });
        });

        it("caps an exception approved for longer at the policy's longest access-token TTL, which the revocation list covers", async () => {
          table.putConsumer(
            keyBoundConsumer([clientKeyPair], {
              risk: 'high',
              requirements: defaultPolicy.document.risks.high,
              exceptions: [exception('access_token_ttl_seconds', 86_400, DAY_MS)],
            }),
          );

          const response = await strongRequest({ DPoP: await signProof(dpopKey) });
          expect(bodyOf(response)).toMatchObject({ expires_in: defaultPolicy.document.risks.low.accessTokenTtlSeconds });
          const claims = await issuedClaims(response);
          expect(claims.exp! - claims.iat!).toBe(defaultPolicy.document.risks.low.accessTokenTtlSeconds);
        });
      });
    });

    it('answers 400 invalid_dpop_proof to two DPoP headers', async () => {
      const [a, b] = await Promise.all([signProof(dpopKey), signProof(dpopKey)]);

      const response = await tokenRequest('grant_type=client_credentials', { Authorization: basic(CLIENT_ID, CLIENT_SECRET), DPoP: b }, { DPoP: [a, b] });

      expectOAuthError(response, 400, 'invalid_dpop_proof');
      expectNothingWritten();
    });

    it('answers 400 invalid_dpop_proof to two proofs folded into one header', async () => {
      const [a, b] = await Promise.all([signProof(dpopKey), signProof(dpopKey)]);

      const response = await withProof(`${a}, ${b}`);

      expectOAuthError(response, 400, 'invalid_dpop_proof');
      expectNothingWritten();
    });

    it.each([
      ['for another htu', () => signProof(dpopKey, { htu: `${ISSUER}/oauth2/introspect` })],
      ['for another server’s token endpoint', () => signProof(dpopKey, { htu: 'https://other-as.example/oauth2/token' })],
      ['for another htm', () => signProof(dpopKey, { htm: 'GET' })],
      ['with a stale iat', () => signProof(dpopKey, { iat: NOW_S - 61 })],
      ['with an iat in the future', () => signProof(dpopKey, { iat: NOW_S + 61 })],
      ['signed by another key than its header names', async () => signProof({ ...(await clientKey('ES256', 'impostor')), jwk: dpopKey.jwk })],
      ['whose header key does not fit its alg', async () => signProof({ ...otherKey, jwk: dpopKey.jwk })],
      ['without typ dpop+jwt', () => signProof(dpopKey, {}, { typ: 'JWT' })],
      ['that is unsigned', async () => unsignedJwt({ jti: 'x', htm: 'POST', htu: TOKEN_ENDPOINT, iat: NOW_S }, { typ: 'dpop+jwt', jwk: dpopKey.jwk })],
    ])('answers 400 invalid_dpop_proof to a proof %s, issuing nothing', async (_name, make) => {
      const response = await withProof(make());

      expectOAuthError(response, 400, 'invalid_dpop_proof');
      expectNothingWritten();
      expect(table.markers().size).toBe(0);
    });

    it('answers 400 invalid_dpop_proof to a replayed proof and issues no second token', async () => {
      const proof = await signProof(dpopKey);
      expect((await withProof(proof)).statusCode).toBe(200);
      const writes = ddb.commandCalls(UpdateCommand).length;

      const replay = await withProof(proof);

      expectOAuthError(replay, 400, 'invalid_dpop_proof');
      expect(bodyOf(replay)['error_description']).toContain('already used');
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(writes);
      expect(table.markers().size).toBe(1);
    });

    it('answers 400 invalid_dpop_proof once a proof has gone stale under a running instance', async () => {
      const proof = await signProof(dpopKey);
      clock.advance(61_000);

      const response = await withProof(proof);

      expectOAuthError(response, 400, 'invalid_dpop_proof');
      expectNothingWritten();
    });
  });
});
