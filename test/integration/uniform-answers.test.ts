import { generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, registerPartner, startTestPlane } from './local-mode.js';

/**
 * The token endpoint must not tell a caller which client ids exist: an unknown id and a known id with a wrong key or
 * secret get the same status, challenge and body, byte for byte.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const UNKNOWN_ID = 'gh_doesnotexist000000';

let plane: LocalControlPlane;
let partner: { clientId: string; kid: string };
let secretClientId: string;
let strangerKey: CryptoKey;

beforeAll(async () => {
  plane = await startTestPlane();
  partner = await registerPartner(plane, { scope: 'reference-data:read', data_classes: ['public'] });
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  secretClientId = String(reg.json['client_id']);
  strangerKey = (await generateKeyPair('ES256')).privateKey;
});
afterAll(async () => {
  await plane?.close();
});

function assertion(clientId: string, key: CryptoKey, header: { alg: string; kid?: string } = { alg: 'ES256', kid: partner.kid }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(`${plane.url}/oauth2/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key);
}

async function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<{ status: number; challenge: string | null; body: string }> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() };
}

const withAssertion = async (clientId: string, key: CryptoKey, kid?: string) =>
  token({ client_assertion_type: JWT_BEARER, client_assertion: await assertion(clientId, key, { alg: 'ES256', ...(kid ? { kid } : {}) }) });

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

describe('token endpoint client authentication (local mode over HTTP)', () => {
  it('answers an unknown private_key_jwt client id and a known one with a wrong key byte for byte alike', async () => {
    const unknown = await withAssertion(UNKNOWN_ID, strangerKey, partner.kid);
    const wrongKey = await withAssertion(partner.clientId, strangerKey, partner.kid);
    const wrongKid = await withAssertion(partner.clientId, strangerKey, 'not-registered');

    expect(unknown.status).toBe(401);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    expect(wrongKey).toEqual(unknown);
    expect(wrongKid).toEqual(unknown);
  });

  it('answers an unknown client id and a known one with a wrong secret byte for byte alike', async () => {
    const unknown = await token({}, basic(UNKNOWN_ID, 'wrong-secret'));
    const wrongSecret = await token({}, basic(secretClientId, 'wrong-secret'));
    const unknownPost = await token({ client_id: UNKNOWN_ID, client_secret: 'wrong-secret' });
    const wrongMethod = await token({ client_id: secretClientId, client_secret: 'wrong-secret' });

    expect(unknown.status).toBe(401);
    expect(wrongSecret).toEqual(unknown);
    expect(wrongMethod).toEqual(unknownPost);
    expect(unknownPost.body).toBe(unknown.body);
  });

  it('answers a secret-based client presenting an assertion as it answers an unknown id', async () => {
    const unknown = await withAssertion(UNKNOWN_ID, strangerKey, partner.kid);
    const secretClient = await withAssertion(secretClientId, strangerKey, partner.kid);

    expect(secretClient).toEqual(unknown);
  });
});
