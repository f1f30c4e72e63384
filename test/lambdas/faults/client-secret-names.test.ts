import type { APIGatewayProxyResult } from 'aws-lambda';
import { exportJWK, generateKeyPair } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import { createRegistrationManageHandler } from '../../../lambdas/handlers/registration-manage.js';
import { bodyOf, httpEvent, lambdaContext } from '../handlers/fixtures.js';
import { publicRegistration } from '../fixtures.js';
import { CLIENT_SECRET_PREFIX, faultPlane, type FaultPlane } from './fault-plane.js';

/**
 * Client-secret names through the real Secrets Manager adapter, on a fake that keeps a deleted secret's name for its
 * recovery window as Secrets Manager does: a client moved to keys and back must be able to hold a secret again.
 */
let plane: FaultPlane;
beforeEach(async () => {
  plane = await faultPlane();
});

const json = (method: string, resource: string, body: unknown, headers: Record<string, string> = {}, pathParameters: Record<string, string> | null = null) =>
  httpEvent({ method, resource, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), pathParameters });

async function register(): Promise<Record<string, unknown>> {
  const res = await createRegisterHandler(plane.servicesOf('register'))(json('POST', '/register', publicRegistration()), lambdaContext);
  expect(res.statusCode).toBe(201);
  return bodyOf(res);
}

async function update(current: Record<string, unknown>, changes: Record<string, unknown>): Promise<APIGatewayProxyResult> {
  const { registration_access_token: token, client_id: clientId, client_secret: _secret, client_secret_expires_at: _expires, ...metadata } = current;
  return createRegistrationManageHandler(plane.servicesOf('registration-manage'))(
    json(
      'PUT',
      '/register/{client_id}',
      { client_id: clientId, ...metadata, ...changes },
      { authorization: `Bearer ${String(token)}` },
      {
        client_id: String(clientId),
      },
    ),
    lambdaContext,
  );
}

describe('client secret names in Secrets Manager (recovery window kept on deletion)', () => {
  it('lets a client moved from a secret to keys move back to a secret at once: the retired secret is deleted without a recovery window', async () => {
    const registered = await register();
    const name = `${CLIENT_SECRET_PREFIX}${String(registered['client_id'])}`;
    expect(plane.clientSecrets.secrets.has(name)).toBe(true);
    const jwk = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };

    const toKey = await update(registered, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] } });
    expect(toKey.statusCode).toBe(200);
    expect(plane.clientSecrets.secrets.has(name)).toBe(false);
    expect(plane.clientSecrets.scheduled.has(name)).toBe(false);

    const { jwks: _jwks, ...keyBound } = bodyOf(toKey);
    const toSecret = await update(keyBound, { token_endpoint_auth_method: 'client_secret_basic' });
    expect(toSecret.statusCode).toBe(200);
    const secret = bodyOf(toSecret)['client_secret'];
    expect(typeof secret).toBe('string');
    expect(JSON.parse(plane.clientSecrets.secrets.get(name)!)).toMatchObject({ clientSecret: secret });
  });

  it('still keeps a revoked client secret for its recovery window (RFC 7592 delete)', async () => {
    const registered = await register();
    const clientId = String(registered['client_id']);
    const res = await createRegistrationManageHandler(plane.servicesOf('registration-manage'))(
      httpEvent({
        method: 'DELETE',
        resource: '/register/{client_id}',
        headers: { authorization: `Bearer ${String(registered['registration_access_token'])}` },
        pathParameters: { client_id: clientId },
      }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(204);
    expect(plane.clientSecrets.scheduled.has(`${CLIENT_SECRET_PREFIX}${clientId}`)).toBe(true);
  });
});
