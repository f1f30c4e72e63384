import { OAuth2Client, OAuth2HttpError } from '@badgateway/oauth2-client';
import jwt from 'jsonwebtoken';
import { ClientCredentials } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from '../local-mode.js';

// Client credentials from libraries by other authors than the ones Gatehouse is built with (simple-oauth2 by Andrea
// Reginato on @hapi/wreck, @badgateway/oauth2-client by Evert Pot); tokens are read with Auth0's jsonwebtoken.

const AUDIENCE = 'https://accounts.api.bank.test';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ tokenAudience: AUDIENCE });
});
afterAll(async () => {
  await plane?.close();
});

type AuthMethod = 'client_secret_basic' | 'client_secret_post';

/** Registers a low-risk public consumer that authenticates with `method`; the default policy approves it at once. */
async function registerConsumer(method: AuthMethod): Promise<{ clientId: string; secret: string }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: method }));
  expect(reg.status).toBe(201);
  expect(reg.json).toMatchObject({ token_endpoint_auth_method: method, status: 'active' });
  return { clientId: String(reg.json['client_id']), secret: String(reg.json['client_secret']) };
}

/** Decodes without verifying (the resource-server tests verify): the header and claims a client receives. */
function decoded(token: string): { header: jwt.JwtHeader; payload: jwt.JwtPayload } {
  const out = jwt.decode(token, { complete: true });
  if (out === null || typeof out.payload === 'string') throw new Error('not a JWT with a JSON payload');
  return { header: out.header, payload: out.payload };
}

/** What every access token issued to `clientId` carries (RFC 9068). */
function expectAccessTokenFor(token: string, clientId: string): void {
  const { header, payload } = decoded(token);
  expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
  expect(payload).toMatchObject({ iss: plane.url, aud: AUDIENCE, sub: clientId, client_id: clientId, scope: 'reference-data:read', jti: expect.any(String) });
  expect(payload.exp! - payload.iat!).toBe(3600);
}

describe('client credentials with simple-oauth2', () => {
  const client = (id: string, secret: string, authorizationMethod: 'header' | 'body') =>
    new ClientCredentials({ client: { id, secret }, auth: { tokenHost: plane.url, tokenPath: '/oauth2/token' }, options: { authorizationMethod } });

  it.each([
    ['header', 'client_secret_basic'],
    ['body', 'client_secret_post'],
  ] as const)('obtains an at+jwt access token with authorizationMethod %s (%s)', async (authorizationMethod, method) => {
    const { clientId, secret } = await registerConsumer(method);

    const accessToken = await client(clientId, secret, authorizationMethod).getToken({ scope: 'reference-data:read' });

    expect(accessToken.token).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'reference-data:read' });
    expectAccessTokenFor(String(accessToken.token['access_token']), clientId);
    expect(accessToken.expired()).toBe(false);
  });

  it('gets the registered scope when it asks for none', async () => {
    const { clientId, secret } = await registerConsumer('client_secret_basic');

    const accessToken = await client(clientId, secret, 'header').getToken({});

    expect(decoded(String(accessToken.token['access_token'])).payload['scope']).toBe('reference-data:read');
  });

  it('fails with a 401 invalid_client error for a wrong secret', async () => {
    const { clientId } = await registerConsumer('client_secret_basic');

    const error = await client(clientId, 'not-the-secret', 'header')
      .getToken({ scope: 'reference-data:read' })
      .then(
        () => undefined,
        (e: unknown) => e as { isBoom?: boolean; output: { statusCode: number }; data: { payload: Record<string, unknown>; headers: Record<string, string> } },
      );

    expect(error?.isBoom).toBe(true);
    expect(error?.output.statusCode).toBe(401);
    expect(error?.data.payload).toMatchObject({ error: 'invalid_client' });
    // RFC 6749 section 5.2: a client that tried the Authorization header is answered with a challenge for it.
    expect(error?.data.headers['www-authenticate']).toMatch(/^Basic /);
  });
});

describe('client credentials with @badgateway/oauth2-client', () => {
  // Only the server is given: the client finds the token endpoint through RFC 8414 discovery.
  const client = (clientId: string, clientSecret: string, authenticationMethod: AuthMethod) =>
    new OAuth2Client({ server: plane.url, clientId, clientSecret, authenticationMethod });

  it.each(['client_secret_basic', 'client_secret_post'] as const)('obtains an at+jwt access token with %s, endpoints discovered', async (method) => {
    const { clientId, secret } = await registerConsumer(method);

    const token = await client(clientId, secret, method).clientCredentials({ scope: ['reference-data:read'] });

    expectAccessTokenFor(token.accessToken, clientId);
    expect(token.refreshToken).toBeNull();
    expect(token.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
  });

  it.each(['client_secret_basic', 'client_secret_post'] as const)('fails with OAuth2HttpError invalid_client for a wrong secret (%s)', async (method) => {
    const { clientId } = await registerConsumer(method);

    const error = await client(clientId, 'not-the-secret', method)
      .clientCredentials({ scope: ['reference-data:read'] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );

    expect(error).toBeInstanceOf(OAuth2HttpError);
    expect(error).toMatchObject({ oauth2Code: 'invalid_client', httpCode: 401 });
  });

  it('fails with invalid_client when the client uses another method than it registered', async () => {
    const { clientId, secret } = await registerConsumer('client_secret_basic');

    await expect(client(clientId, secret, 'client_secret_post').clientCredentials()).rejects.toMatchObject({ oauth2Code: 'invalid_client', httpCode: 401 });
  });

  it('fails with invalid_scope for a scope the consumer was not granted', async () => {
    const { clientId, secret } = await registerConsumer('client_secret_basic');

    await expect(client(clientId, secret, 'client_secret_basic').clientCredentials({ scope: ['payments:initiate'] })).rejects.toMatchObject({
      oauth2Code: 'invalid_scope',
      httpCode: 400,
    });
  });
});
