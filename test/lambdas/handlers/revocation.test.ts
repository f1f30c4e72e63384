import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileVault } from '../../../lambdas/adapters/local/file-vault.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createRevocationHandler } from '../../../lambdas/handlers/revocation.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { clientKey, JWT_BEARER, keyBoundConsumer, NOW_S, REVOCATION_ENDPOINT, signAssertion } from '../core/oauth/fixtures.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, TestClock } from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, httpEvent, lambdaContext, TABLE } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

const OTHER_CLIENT = 'gh_otherclient000000';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (init: Record<string, string>) => new URLSearchParams(init).toString();

function expectNothingWritten(): void {
  expect(ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand || c.args[0] instanceof QueryCommand))).toHaveLength(0);
}

describe('createRevocationHandler', () => {
  let table: FakeTable;
  let clock: TestClock;
  let revocation: HttpLambda;
  let tokenEndpoint: HttpLambda;

  const post = (handler: HttpLambda, resource: string, body: string, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> =>
    handler(httpEvent({ method: 'POST', resource, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body }), lambdaContext);

  const revoke = (body: Record<string, string>, authorization = basic(CLIENT_ID, CLIENT_SECRET)) =>
    post(revocation, '/oauth2/revoke', form(body), { Authorization: authorization });

  const issue = async (clientId = CLIENT_ID): Promise<string> => {
    const response = await post(tokenEndpoint, '/oauth2/token', 'grant_type=client_credentials', { Authorization: basic(clientId, CLIENT_SECRET) });
    expect(response.statusCode).toBe(200);
    return String(bodyOf(response)['access_token']);
  };

  const expectOAuthError = (response: APIGatewayProxyResult, status: number, error: string) => {
    expect(response.statusCode).toBe(status);
    expect(bodyOf(response)).toEqual({ error, error_description: expect.any(String) });
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json' });
  };

  beforeEach(() => {
    table = new FakeTable(ddb);
    clock = new TestClock();
    const services = buildServices({ jwks: { keys: [] }, clock, vault: new FileVault() });
    revocation = createRevocationHandler(services);
    tokenEndpoint = createTokenHandler(services);
    table.putConsumer(consumerFixture());
    table.putConsumer(consumerFixture({ clientId: OTHER_CLIENT }));
  });

  afterEach(() => {
    ddb.reset();
  });

  it('revokes the client’s own token: 200, listed for resource servers and a revocation marker until the token’s exp', async () => {
    const token = await issue();
    const { jti, exp } = decodeJwt(token);
    ddb.resetHistory();

    const response = await revoke({ token });

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({});
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store' });
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, Item: { pk: 'REVOCATIONS', sk: `TOKEN#${jti}`, kind: 'revocation', jti, exp, ttl: exp } },
      {
        TableName: TABLE,
        Item: { pk: `MARKER#revoked:${jti}`, sk: 'MARKER', kind: 'marker', ttl: exp },
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': NOW_S },
      },
    ]);
    expect(table.markers()).toEqual(new Map([[`revoked:${jti}`, NOW_S + 3600]]));
  });

  it('accepts token_type_hint=access_token', async () => {
    const token = await issue();

    const response = await revoke({ token, token_type_hint: 'access_token' });

    expect(response.statusCode).toBe(200);
    expect(table.markers().size).toBe(1);
  });

  it('answers 200 to a second revocation of the same token', async () => {
    const token = await issue();
    await revoke({ token });

    const again = await revoke({ token });

    expect(again.statusCode).toBe(200);
    expect(table.markers().size).toBe(1);
  });

  it('authenticates a key-bound client by an assertion addressed to the revocation endpoint', async () => {
    const key = await clientKey('EdDSA');
    const token = await issue();
    table.putConsumer(keyBoundConsumer([key]));
    const assertion = await signAssertion(key, { aud: REVOCATION_ENDPOINT });

    const response = await post(revocation, '/oauth2/revoke', form({ token, client_assertion_type: JWT_BEARER, client_assertion: assertion }));

    expect(response.statusCode).toBe(200);
    expect([...table.markers().keys()].sort()).toEqual(
      [`assertion:${CLIENT_ID}:${String(decodeJwt(assertion).jti)}`, `revoked:${String(decodeJwt(token).jti)}`].sort(),
    );
  });

  it.each([
    ['is not a JWT', 'not-a-token'],
    ['is unsigned', 'eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.'],
  ])('answers 200 and writes nothing for a token that %s (RFC 7009 §2.2)', async (_name, token) => {
    const response = await revoke({ token });

    expect(response.statusCode).toBe(200);
    expectNothingWritten();
  });

  it('answers 200 and writes nothing for an expired token', async () => {
    const token = await issue();
    clock.advance(3600_000);
    ddb.resetHistory();

    expect((await revoke({ token })).statusCode).toBe(200);
    expectNothingWritten();
  });

  describe('refusals', () => {
    it('answers 400 unauthorized_client to revoking another client’s token, writing nothing', async () => {
      const token = await issue(OTHER_CLIENT);
      ddb.resetHistory();

      const response = await revoke({ token });

      expectOAuthError(response, 400, 'unauthorized_client');
      expectNothingWritten();
      expect(table.markers().size).toBe(0);
    });

    it('answers 401 invalid_client to a wrong secret, writing nothing', async () => {
      const token = await issue();
      ddb.resetHistory();

      const response = await revoke({ token }, basic(CLIENT_ID, 'wrong'));

      expectOAuthError(response, 401, 'invalid_client');
      expect(response.headers!['www-authenticate']).toMatch(/^Basic /);
      expectNothingWritten();
    });

    it('answers 401 invalid_client to an unauthenticated request', async () => {
      const response = await post(revocation, '/oauth2/revoke', form({ token: 'x' }));

      expectOAuthError(response, 401, 'invalid_client');
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers 400 invalid_request without a token, writing nothing', async () => {
      const response = await revoke({});

      expectOAuthError(response, 400, 'invalid_request');
      expectNothingWritten();
    });

    it('answers 400 invalid_request to a repeated token_type_hint', async () => {
      const response = await post(revocation, '/oauth2/revoke', 'token=x&token_type_hint=access_token&token_type_hint=access_token', {
        Authorization: basic(CLIENT_ID, CLIENT_SECRET),
      });

      expectOAuthError(response, 400, 'invalid_request');
      expect(ddb.calls()).toHaveLength(0);
    });
  });
});
