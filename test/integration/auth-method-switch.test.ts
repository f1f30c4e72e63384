import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { ClientCredentials } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { STAGES } from '../../lambdas/core/ports.js';
import { startJwksServer, type JwksServer } from './jwks-server.js';
import { assertionTokenRequest, postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';
import { readOutbox } from './outbox.js';

// The plane's clock runs `offset` ahead of real time, so grace windows can be crossed without waiting.
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let plane: LocalControlPlane;
let keyHost: JwksServer;
beforeAll(async () => {
  keyHost = await startJwksServer();
  plane = await startTestPlane({ clock, consumerCacheMs: 0, jwksFetchTestOnly: { loopbackHosts: ['localhost'], trustedCa: keyHost.ca } });
});
afterAll(async () => {
  await plane?.close();
  await keyHost?.close();
});

type Answer = { status: number; json: Record<string, unknown> };

async function call(method: 'GET' | 'PUT', clientId: string, token: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${plane.url}/register/${encodeURIComponent(clientId)}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A low-risk public consumer, approved by the default policy, with a contact of its own to count its mail. */
async function register(contact: string, overrides: Record<string, unknown> = {}): Promise<{ clientId: string; token: string; json: Record<string, unknown> }> {
  const reg = await postJson(
    `${plane.url}/register`,
    publicRequest({ contacts: [contact], expires_at: new Date(clock.now().getTime() + 90 * DAY).toISOString(), ...overrides }),
  );
  expect(reg.status).toBe(201);
  return { clientId: String(reg.json['client_id']), token: String(reg.json['registration_access_token']), json: reg.json };
}

async function signingKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown>; kid: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }, kid };
}

async function basicToken(clientId: string, secret: string): Promise<number> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  return res.status;
}

async function postToken(clientId: string, secret: string): Promise<number> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  return res.status;
}

/** A token request with a client assertion signed by `key`, its times taken from the plane's clock. */
async function assertionToken(clientId: string, key: { privateKey: CryptoKey; kid: string }): Promise<number> {
  return (await assertionTokenRequest(plane, clientId, key, { now: clock.now() })).status;
}

/** openid-client as a partner runs it with private_key_jwt, its clock set to the plane's. */
async function oidcKeyToken(clientId: string, key: { privateKey: CryptoKey; kid: string }): Promise<string | undefined> {
  const config = await oidc.discovery(
    new URL(plane.url),
    clientId,
    { [oidc.clockSkew]: Math.round(offset / 1000) },
    oidc.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }),
    { algorithm: 'oauth2', execute: [oidc.allowInsecureRequests] },
  );
  return (await oidc.clientCredentialsGrant(config)).access_token;
}

const mailsTo = (address: string, subject: string) => readOutbox(plane.outboxDir).filter((m) => m.to.includes(address) && m.subject.includes(subject));
const applied = () => plane.metrics.total('RegistrationUpdates', { outcome: 'applied' });
const storedSecret = (clientId: string) => plane.services.clientSecrets.staged(clientId).read({ stage: STAGES.current });

describe('RFC 7592 update of token_endpoint_auth_method over HTTP', () => {
  it('moves a client from a secret to private_key_jwt: the key gets tokens, the old secret works through the 7-day grace and not after', async () => {
    const contact = 'to-key@fintech.example';
    const { clientId, token, json } = await register(contact);
    const secret = String(json['client_secret']);
    const key = await signingKey('k1');
    const before = applied();

    // The read response sent back with the method and the key changed, as RFC 7592 section 2.2 expects.
    const res = await call('PUT', clientId, token, { ...json, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    expect(res.json).not.toHaveProperty('client_secret');
    expect(res.json).not.toHaveProperty('client_secret_expires_at');
    const rotated = String(res.json['registration_access_token']);
    expect(rotated).not.toBe(token);
    expect(applied() - before).toBe(1);

    // An independent client (openid-client) authenticates with the key; so does a hand-made assertion.
    expect(await oidcKeyToken(clientId, key)).toBeTruthy();
    expect(await assertionToken(clientId, key)).toBe(200);
    // The stored secret is gone (its deletion scheduled); its hash keeps it accepted through the grace window.
    expect(await storedSecret(clientId)).toBeUndefined();
    expect(await basicToken(clientId, secret)).toBe(200);

    const audit = await plane.services.consumers.listAudit(clientId);
    const event = audit.filter((e) => e.type === 'consumer.updated');
    expect(event).toHaveLength(1);
    expect(event[0]!.data).toMatchObject({ authMethod: { from: 'client_secret_basic', to: 'private_key_jwt' }, oldCredentialUntil: expect.any(String) });
    await expect.poll(() => mailsTo(contact, 'Client authentication changed').length, { timeout: 5000 }).toBe(1);
    const mail = mailsTo(contact, 'Client authentication changed')[0]!;
    expect(mail.text).toContain('from client_secret_basic to private_key_jwt');
    expect(mail.text).not.toContain(secret);

    // A read shows no secret any more, so it does not replace the registration access token.
    const read = await call('GET', clientId, rotated);
    expect(read.json).not.toHaveProperty('client_secret');
    expect(read.json['registration_access_token']).toBe(rotated);

    offset += 7 * DAY - HOUR;
    expect(await basicToken(clientId, secret)).toBe(200);
    offset += 2 * HOUR;
    expect(await basicToken(clientId, secret)).toBe(401);
    expect(await postToken(clientId, secret)).toBe(401);
    expect(await assertionToken(clientId, key)).toBe(200);
  });

  it('moves a client from a secret to keys at jwks_uri, fetched once before the update is accepted', async () => {
    const { clientId, token, json } = await register('to-uri@fintech.example');
    const key = await signingKey('u1');
    keyHost.route('/switch/jwks', { keys: [key.jwk] });

    const res = await call('PUT', clientId, token, { ...json, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url('/switch/jwks') });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: keyHost.url('/switch/jwks') });
    expect(keyHost.hits('/switch/jwks')).toBe(1);
    expect(await assertionToken(clientId, key)).toBe(200);
  });

  it('moves a client from private_key_jwt to a secret: the new secret is returned once and gets tokens; the keys work for 24 h more', async () => {
    const contact = 'to-secret@fintech.example';
    const key = await signingKey('k1');
    const { clientId, token, json } = await register(contact, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    expect(json).not.toHaveProperty('client_secret');

    const { jwks: _jwks, ...withoutKeys } = json;
    const res = await call('PUT', clientId, token, { ...withoutKeys, token_endpoint_auth_method: 'client_secret_post' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      token_endpoint_auth_method: 'client_secret_post',
      client_secret_expires_at: Math.floor(Date.parse(String(json['expires_at'])) / 1000),
    });
    expect(res.json).not.toHaveProperty('jwks');
    const secret = String(res.json['client_secret']);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    // Stored the way registration stores it: the read delivers the same value (and replaces the token, as for any secret).
    expect(JSON.parse(String(await storedSecret(clientId)))).toEqual({ clientId, clientSecret: secret });
    const read = await call('GET', clientId, String(res.json['registration_access_token']));
    expect(read.json['client_secret']).toBe(secret);

    // An independent client (simple-oauth2, sending the secret in the body) gets a token with it.
    const oauth = new ClientCredentials({
      client: { id: clientId, secret },
      auth: { tokenHost: plane.url, tokenPath: '/oauth2/token' },
      options: { authorizationMethod: 'body' },
    });
    expect((await oauth.getToken({})).token['access_token']).toBeTruthy();
    // Only the method registered: the same secret through Basic is refused.
    expect(await basicToken(clientId, secret)).toBe(401);

    const audit = await plane.services.consumers.listAudit(clientId);
    expect(audit.filter((e) => e.type === 'consumer.updated').map((e) => e.data)).toMatchObject([
      { path: 'policy_auto', authMethod: { from: 'private_key_jwt', to: 'client_secret_post' } },
    ]);
    await expect.poll(() => mailsTo(contact, 'Client authentication changed').length, { timeout: 5000 }).toBe(1);
    expect(mailsTo(contact, 'Client authentication changed')[0]!.text).not.toContain(secret);

    expect(await assertionToken(clientId, key)).toBe(200);
    offset += 23 * HOUR;
    expect(await assertionToken(clientId, key)).toBe(200);
    offset += 2 * HOUR;
    expect(await assertionToken(clientId, key)).toBe(401);
    expect(await postToken(clientId, secret)).toBe(200);
  });

  it('resolves concurrent moves to a secret to one: the secret store and the registry agree on the one secret issued', async () => {
    const key = await signingKey('k1');
    const { clientId, token, json } = await register('race@fintech.example', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    const { jwks: _jwks, ...withoutKeys } = json;

    const answers = await Promise.all([1, 2, 3].map(() => call('PUT', clientId, token, { ...withoutKeys, token_endpoint_auth_method: 'client_secret_basic' })));

    const won = answers.filter((a) => a.status === 200);
    expect(won).toHaveLength(1);
    // A loser found the winner's secret already stored, or the token already replaced: either way it lost the race (409).
    for (const lost of answers.filter((a) => a.status !== 200)) {
      expect(lost).toMatchObject({ status: 409, json: { error: 'update_conflict' } });
    }
    const secret = String(won[0]!.json['client_secret']);
    expect(JSON.parse(String(await storedSecret(clientId)))).toEqual({ clientId, clientSecret: secret });
    expect(await basicToken(clientId, secret)).toBe(200);
  });

  it('switches between client_secret_basic and client_secret_post at once, with the same secret', async () => {
    const contact = 'basic-post@fintech.example';
    const { clientId, token, json } = await register(contact);
    const secret = String(json['client_secret']);

    const res = await call('PUT', clientId, token, { ...json, token_endpoint_auth_method: 'client_secret_post' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_endpoint_auth_method: 'client_secret_post' });
    expect(res.json).not.toHaveProperty('client_secret');
    expect(await postToken(clientId, secret)).toBe(200);
    expect(await basicToken(clientId, secret)).toBe(401);
    await expect.poll(() => mailsTo(contact, 'Client authentication changed').length, { timeout: 5000 }).toBe(1);
  });

  it('answers a bad switch with an RFC 7591 error and writes nothing, neither to the table nor to the secret store', async () => {
    const secretClient = await register('bad-switch@fintech.example');
    const key = await signingKey('k1');
    const keyClient = await register('bad-switch-key@fintech.example', { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    const tableBefore = await tableSnapshot(plane);
    const secretBefore = await storedSecret(secretClient.clientId);
    const before = applied();

    const toKey = { ...secretClient.json, token_endpoint_auth_method: 'private_key_jwt' };
    const cases: Array<[typeof secretClient, Record<string, unknown>, string, RegExp]> = [
      [secretClient, toKey, 'jwks', /needs the public keys/],
      [secretClient, { ...toKey, jwks: { keys: [key.jwk] }, jwks_uri: keyHost.url('/switch/jwks') }, 'jwks_uri', /not both/],
      [secretClient, { ...toKey, jwks: { keys: [{ ...key.jwk, use: 'enc' }] } }, 'jwks', /usable for signing/],
      [secretClient, { ...secretClient.json, token_endpoint_auth_method: 'tls_client_auth' }, 'token_endpoint_auth_method', /./],
      [keyClient, { ...keyClient.json, token_endpoint_auth_method: 'client_secret_basic' }, 'jwks', /leave the keys out/],
    ];
    for (const [client, body, field, description] of cases) {
      const res = await call('PUT', client.clientId, client.token, body);
      expect(res.status, field).toBe(400);
      expect(res.json).toMatchObject({ error: 'invalid_client_metadata', field });
      expect(String(res.json['error_description'])).toMatch(description);
    }
    expect(await tableSnapshot(plane)).toEqual(tableBefore);
    expect(await storedSecret(secretClient.clientId)).toBe(secretBefore);
    expect(await storedSecret(keyClient.clientId)).toBeUndefined();
    expect(applied()).toBe(before);
  });
});
