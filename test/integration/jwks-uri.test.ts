import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { startJwksServer, type JwksServer } from './jwks-server.js';
import { assertionTokenRequest, postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';

let plane: LocalControlPlane;
let keyHost: JwksServer;
/** How far the plane's clock runs ahead of real time, to pass the minute between refetches without waiting. */
let aheadMs = 0;

beforeAll(async () => {
  keyHost = await startJwksServer();
  plane = await startTestPlane({
    clock: { now: () => new Date(Date.now() + aheadMs) },
    jwksFetchTestOnly: { loopbackHosts: ['localhost'], trustedCa: keyHost.ca },
  });
});
afterAll(async () => {
  await plane?.close();
  await keyHost?.close();
});

async function signingKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown>; kid: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }, kid };
}

/** openid-client as the partner runs it, its clock set to the plane's. */
function client(clientId: string, key: { privateKey: CryptoKey; kid: string }): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(plane.url),
    clientId,
    { [oidc.clockSkew]: Math.round(aheadMs / 1000) },
    oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
    { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] },
  );
}

async function tokenStatus(clientId: string, key: { privateKey: CryptoKey; kid: string }): Promise<number | string> {
  try {
    await oidc.clientCredentialsGrant(await client(clientId, key), { scope: 'reference-data:read' });
    return 200;
  } catch (error) {
    // openid-client answers a 401 with a WWWAuthenticateChallengeError carrying the status.
    return (error as { status?: number }).status ?? String(error);
  }
}

async function registerWithUri(path: string): Promise<string> {
  const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url(path) }));
  expect(reg.status).toBe(201);
  return String(reg.json['client_id']);
}

describe('jwks_uri over HTTP against local mode', () => {
  it('registers a private_key_jwt client by jwks_uri and issues it tokens (openid-client) with the keys published there', async () => {
    const k1 = await signingKey('k1');
    keyHost.route('/a/jwks', { keys: [k1.jwk] });

    const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url('/a/jwks') }));
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url('/a/jwks') });
    expect(reg.json).not.toHaveProperty('jwks');
    expect(reg.json).not.toHaveProperty('client_secret');
    // Registration fetched once to check the URL serves public keys.
    expect(keyHost.hits('/a/jwks')).toBe(1);
    const requested = (await plane.services.consumers.listAudit(String(reg.json['client_id']))).find((e) => e.type === 'consumer.requested');
    expect(requested?.data).toMatchObject({ jwksUri: keyHost.url('/a/jwks') });

    const clientId = String(reg.json['client_id']);
    const read = await fetch(String(reg.json['registration_client_uri']), {
      headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
    });
    expect(((await read.json()) as Record<string, unknown>)['jwks_uri']).toBe(keyHost.url('/a/jwks'));

    expect(await tokenStatus(clientId, k1)).toBe(200);
    expect(keyHost.hits('/a/jwks')).toBe(2);
    // Served from the cache within its age.
    expect(await tokenStatus(clientId, k1)).toBe(200);
    expect(keyHost.hits('/a/jwks')).toBe(2);
  });

  it('accepts a key newly published at the URI after one refetch, and refetches for another unknown kid only after a minute', async () => {
    const [k1, k2, k3] = await Promise.all([signingKey('k1'), signingKey('k2'), signingKey('k3')]);
    keyHost.route('/b/jwks', { keys: [k1.jwk] });
    const clientId = await registerWithUri('/b/jwks');
    expect(await tokenStatus(clientId, k1)).toBe(200);
    expect(keyHost.hits('/b/jwks')).toBe(2);

    aheadMs += 61_000;
    keyHost.route('/b/jwks', { keys: [k1.jwk, k2.jwk] });
    expect(await tokenStatus(clientId, k2)).toBe(200);
    expect(keyHost.hits('/b/jwks')).toBe(3);

    // A second unknown kid within the minute: no fetch, refused (the uniform answer; the reason is logged).
    keyHost.route('/b/jwks', { keys: [k1.jwk, k2.jwk, k3.jwk] });
    expect(await tokenStatus(clientId, k3)).toBe(401);
    expect(keyHost.hits('/b/jwks')).toBe(3);

    aheadMs += 61_000;
    expect(await tokenStatus(clientId, k3)).toBe(200);
    expect(keyHost.hits('/b/jwks')).toBe(4);
  });

  it('moves the keys to another jwks_uri by an RFC 7592 update, fetching the new URI once and refusing one that serves no usable keys', async () => {
    const [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2')]);
    keyHost.route('/d/jwks', { keys: [k1.jwk] });
    keyHost.route('/e/jwks', { keys: [k2.jwk] });
    keyHost.route('/f/jwks', { keys: [{ ...k2.jwk, d: 'private' }] });
    const body = publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url('/d/jwks') });
    const reg = await postJson(`${plane.url}/register`, body);
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);
    const put = (token: unknown, uri: string) =>
      fetch(String(reg.json['registration_client_uri']), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${String(token)}` },
        body: JSON.stringify({ ...body, client_id: clientId, jwks_uri: uri }),
      });

    const refused = await put(reg.json['registration_access_token'], keyHost.url('/f/jwks'));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client_metadata' });
    expect((await plane.services.consumers.getConsumer(clientId))?.jwksUri).toBe(keyHost.url('/d/jwks'));

    const moved = await put(reg.json['registration_access_token'], keyHost.url('/e/jwks'));
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ jwks_uri: keyHost.url('/e/jwks') });
    expect(keyHost.hits('/e/jwks')).toBe(1);
    expect(await tokenStatus(clientId, k2)).toBe(200);
  });

  it('answers invalid_client when the key set cannot be fetched any more, the same answer as a wrong key', async () => {
    const k1 = await signingKey('k1');
    keyHost.route('/c/jwks', { keys: [k1.jwk] });
    const clientId = await registerWithUri('/c/jwks');
    keyHost.route('/c/jwks', (_req, res) => res.writeHead(500).end());
    // The token endpoint has never fetched this set: nothing cached, so the failure bites at once.
    const res = await assertionTokenRequest(plane, clientId, { privateKey: k1.privateKey, kid: 'k1' }, { now: new Date(Date.now() + aheadMs) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
  });

  describe('registration refuses a jwks_uri it must not or cannot fetch, with invalid_client_metadata, writing no consumer', () => {
    const privateKeySet = { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'leaked', kid: 'oops' }] };
    it.each([
      ['an http URL', () => `http://localhost:${keyHost.port}/jwks`, 'jwks_uri: must be an https URL (not http)'],
      [
        'the cloud metadata address',
        () => 'https://169.254.169.254/latest/meta-data/',
        'The key set at jwks_uri was refused: jwks_uri host 169.254.169.254 is a link-local address (the cloud metadata service lives here); key sets are fetched from public addresses only.',
      ],
      [
        'a loopback address not named as a test host',
        () => `https://127.0.0.1:${keyHost.port}/jwks`,
        'The key set at jwks_uri was refused: jwks_uri host 127.0.0.1 is a loopback address; key sets are fetched from public addresses only.',
      ],
      [
        'a URL that redirects to another host',
        () => (keyHost.route('/r/jwks', (_q, s) => s.writeHead(302, { location: 'https://10.0.0.5/jwks' }).end()), keyHost.url('/r/jwks')),
        'The key set at jwks_uri was refused: jwks_uri answered with a redirect (HTTP 302 to another host, 10.0.0.5); redirects are not followed: register the final URL.',
      ],
      [
        'a key set that holds a private key',
        () => (keyHost.route('/p/jwks', privateKeySet), keyHost.url('/p/jwks')),
        'The key set at jwks_uri was refused: the key set publishes private key material (keys[0], kid "oops"): publish public keys only, and replace that key.',
      ],
    ])('refuses %s', async (_what, url, description) => {
      const consumersBefore = consumers(await tableSnapshot(plane));
      const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: url() }));
      expect(reg.status).toBe(400);
      expect(reg.json).toEqual({ error: 'invalid_client_metadata', error_description: description, field: 'jwks_uri' });
      expect(consumers(await tableSnapshot(plane))).toEqual(consumersBefore);
    });

    it('refuses jwks and jwks_uri together (RFC 7591 section 2), and jwks_uri for a secret-based client', async () => {
      const k1 = await signingKey('k1');
      const both = await postJson(
        `${plane.url}/register`,
        publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k1.jwk] }, jwks_uri: keyHost.url('/a/jwks') }),
      );
      expect(both.status).toBe(400);
      expect(both.json).toMatchObject({
        error: 'invalid_client_metadata',
        error_description: 'Give jwks or jwks_uri, not both (RFC 7591 section 2).',
      });
      const secret = await postJson(`${plane.url}/register`, publicRequest({ jwks_uri: keyHost.url('/a/jwks') }));
      expect(secret.status).toBe(400);
      expect(secret.json).toMatchObject({
        error: 'invalid_client_metadata',
        error_description: 'jwks_uri is used only with token_endpoint_auth_method private_key_jwt.',
      });
    });
  });

  describe('software statement naming software_jwks_endpoint', () => {
    it('refuses a statement whose software_jwks_endpoint is not an https URL', async () => {
      const statement = await plane.softwareStatements.sign({
        software_id: 'app-http',
        tier: 'public',
        software_jwks_endpoint: 'http://directory.example/jwks',
      });
      const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', software_statement: statement }));
      expect(reg.status).toBe(400);
      expect(reg.json).toEqual({
        error: 'invalid_software_statement',
        error_description: "The software statement's software_jwks_endpoint must be an https URL (not http).",
        field: 'software_statement',
      });
    });

    it('takes the keys from the endpoint the statement names, and refuses another jwks_uri or inline keys', async () => {
      const k1 = await signingKey('k1');
      keyHost.route('/directory/app-1/jwks', { keys: [k1.jwk] });
      const statement = () =>
        plane.softwareStatements.sign({
          software_id: `app-${Math.random().toString(36).slice(2)}`,
          tier: 'public',
          software_jwks_endpoint: keyHost.url('/directory/app-1/jwks'),
        });

      const reg = await postJson(
        `${plane.url}/register`,
        publicRequest({ token_endpoint_auth_method: 'private_key_jwt', software_statement: await statement() }),
      );
      expect(reg.status).toBe(201);
      expect(reg.json['jwks_uri']).toBe(keyHost.url('/directory/app-1/jwks'));
      expect(await tokenStatus(String(reg.json['client_id']), k1)).toBe(200);

      const other = await postJson(
        `${plane.url}/register`,
        publicRequest({ token_endpoint_auth_method: 'private_key_jwt', software_statement: await statement(), jwks_uri: keyHost.url('/a/jwks') }),
      );
      expect(other.status).toBe(400);
      expect(other.json).toMatchObject({ error: 'unapproved_software_statement', field: 'jwks_uri' });

      const inline = await postJson(
        `${plane.url}/register`,
        publicRequest({ token_endpoint_auth_method: 'private_key_jwt', software_statement: await statement(), jwks: { keys: [k1.jwk] } }),
      );
      expect(inline.status).toBe(400);
      expect(inline.json).toMatchObject({ error: 'invalid_client_metadata', field: 'jwks' });
    });
  });
});

/** The consumer records among the table's items (a refused registration may still count against the address's quota). */
function consumers(items: unknown[]): unknown[] {
  return items.filter((i) => !String((i as { pk?: unknown }).pk).startsWith('QUOTA#'));
}
