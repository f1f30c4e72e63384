import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import { createRegistrationReadHandler } from '../../../lambdas/handlers/registration-read.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, NOW, REGISTRATION_TOKEN } from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, httpEvent, ISSUER, lambdaContext } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

describe('createRegistrationReadHandler', () => {
  let table: FakeTable;
  let services: ReturnType<typeof buildServices>;
  let handler: HttpLambda;

  const read = (clientId: string, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> =>
    handler(
      httpEvent({ method: 'GET', resource: '/register/{client_id}', path: `/register/${clientId}`, headers, pathParameters: { client_id: clientId } }),
      lambdaContext,
    );

  const expectInvalidToken = (response: APIGatewayProxyResult, challenge = 'Bearer realm="gatehouse", error="invalid_token"') => {
    expect(response.statusCode).toBe(401);
    expect(bodyOf(response)).toEqual({ error: 'invalid_token', error_description: expect.any(String) });
    expect(response.headers!['www-authenticate']).toBe(challenge);
    expect(response.body).not.toContain('client_name');
    // A read endpoint: whatever happens, only reads are sent.
    expect(ddb.calls().every((c) => c.args[0] instanceof GetCommand)).toBe(true);
  };

  beforeEach(async () => {
    table = new FakeTable(ddb);
    services = buildServices({ jwks: { keys: [] } });
    handler = createRegistrationReadHandler(services);
    table.putConsumer(consumerFixture());
    await services.clientSecrets.create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90);
  });

  afterEach(() => {
    ddb.reset();
  });

  it('answers 200 with the registration and the current client secret from the store, for the right token', async () => {
    const response = await read(CLIENT_ID, { Authorization: `Bearer ${REGISTRATION_TOKEN}` });

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'cache-control': 'no-store', 'content-type': 'application/json' });
    const body = bodyOf(response);
    expect(body).toMatchObject({
      client_id: CLIENT_ID,
      client_id_issued_at: Math.floor(NOW.getTime() / 1000),
      registration_client_uri: `${ISSUER}/register/${CLIENT_ID}`,
      client_name: 'FX dashboard',
      scope: 'reference-data:read',
      status: 'active',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret: CLIENT_SECRET,
      client_secret_expires_at: Math.floor(Date.parse(consumerFixture().secretExpiresAt!) / 1000),
    });
    // RFC 7592 section 3: the client information response carries the registration access token; a read that hands out
    // the secret replaces it, so the one presented is spent.
    expect(body['registration_access_token']).toEqual(expect.any(String));
    expect(body['registration_access_token']).not.toBe(REGISTRATION_TOKEN);
    expect(response.body).not.toContain('secretHash');
    expect(response.body).not.toContain('registrationTokenHash');
    expect(ddb.commandCalls(GetCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ Key: { pk: `CONSUMER#${CLIENT_ID}`, sk: 'CONSUMER' }, ConsistentRead: true }),
    ]);
    expect(table.auditTrail(CLIENT_ID).map((e) => e.type)).toContain('credentials.registration_token_rotated');
    ddb.resetHistory();
    expectInvalidToken(await read(CLIENT_ID, { Authorization: `Bearer ${REGISTRATION_TOKEN}` }));
    expect((await read(CLIENT_ID, { Authorization: `Bearer ${String(body['registration_access_token'])}` })).statusCode).toBe(200);
  });

  it('delivers no secret to a consumer that may not obtain tokens', async () => {
    table.putConsumer(consumerFixture({ status: 'suspended' }));

    const response = await read(CLIENT_ID, { Authorization: `Bearer ${REGISTRATION_TOKEN}` });

    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({ status: 'suspended' });
    expect(bodyOf(response)).not.toHaveProperty('client_secret');
    expect(response.body).not.toContain(CLIENT_SECRET);
  });

  it('answers 503 problem JSON, never a wrong secret, when the store disagrees with the registry', async () => {
    await services.clientSecrets.remove(CLIENT_ID);
    await services.clientSecrets.create({ clientId: CLIENT_ID, clientSecret: 'another-secret-that-the-registry-has-never-seen' }, 90);

    const response = await read(CLIENT_ID, { Authorization: `Bearer ${REGISTRATION_TOKEN}` });

    expect(response.statusCode).toBe(503);
    expect(response.headers!['content-type']).toBe('application/problem+json');
    expect(response.headers!['retry-after']).toBe('30');
    expect(response.body).not.toContain('another-secret');
  });

  it('answers 503 problem JSON when the consumer has no stored secret', async () => {
    await services.clientSecrets.remove(CLIENT_ID);
    const response = await read(CLIENT_ID, { Authorization: `Bearer ${REGISTRATION_TOKEN}` });

    expect(response.statusCode).toBe(503);
    expect(bodyOf(response)).toMatchObject({ status: 503 });
  });

  it('accepts the bearer scheme case-insensitively', async () => {
    expect((await read(CLIENT_ID, { authorization: `bearer ${REGISTRATION_TOKEN}` })).statusCode).toBe(200);
  });

  it('reads back what registration returned', async () => {
    const register = createRegisterHandler(services);
    const created = bodyOf(
      await register(
        httpEvent({
          method: 'POST',
          resource: '/register',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: 'Branch finder',
            tier: 'public',
            scope: 'reference-data:read',
            purpose: 'Show branch opening hours in our app',
            data_classes: ['public'],
            contacts: ['dev@partner.example'],
            expires_at: new Date(NOW.getTime() + 10 * DAY_MS).toISOString(),
          }),
        }),
        lambdaContext,
      ),
    );
    const clientId = String(created['client_id']);

    const response = await read(clientId, { Authorization: `Bearer ${String(created['registration_access_token'])}` });

    expect(response.statusCode).toBe(200);
    // Everything registration returned, the secret included (the same secret, from the store), with a new registration access token.
    const body = bodyOf(response);
    expect({ ...body, registration_access_token: created['registration_access_token'] }).toEqual(created);
    expect(body['registration_access_token']).not.toBe(created['registration_access_token']);
  });

  it('answers 401 invalid_token for a wrong token', async () => {
    expectInvalidToken(await read(CLIENT_ID, { Authorization: 'Bearer not-the-token' }));
  });

  it('answers 401 invalid_token without a token, and reads nothing', async () => {
    const response = await read(CLIENT_ID);

    // RFC 6750 section 3.1: a request without any token gets a challenge without an error code.
    expectInvalidToken(response, 'Bearer realm="gatehouse"');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 401 invalid_token for another scheme', async () => {
    expectInvalidToken(
      await read(CLIENT_ID, { Authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${REGISTRATION_TOKEN}`).toString('base64')}` }),
      'Bearer realm="gatehouse"',
    );
  });

  it('answers 401 invalid_token for an unknown client, exactly as for a wrong token', async () => {
    const unknown = await read('gh_unknown_client', { Authorization: `Bearer ${REGISTRATION_TOKEN}` });
    const wrong = await read(CLIENT_ID, { Authorization: 'Bearer not-the-token' });

    expectInvalidToken(unknown);
    expect(unknown.body).toBe(wrong.body);
  });

  it('answers 401 invalid_token for another client’s token', async () => {
    table.putConsumer(consumerFixture({ clientId: 'gh_other_client_0000', registrationTokenHash: 'different-hash' }));

    expectInvalidToken(await read('gh_other_client_0000', { Authorization: `Bearer ${REGISTRATION_TOKEN}` }));
  });
});
