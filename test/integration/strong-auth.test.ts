import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { AccessError } from '../../lambdas/verifier/errors.js';
import { createAccessTokenVerifier, type VerifiedAccess } from '../../lambdas/verifier/verify-access-token.js';
import { postJson, publicRequest, registerPartner, startTestPlane } from './local-mode.js';
import { approveByEmail } from './review-flow.js';

let plane: LocalControlPlane;
let api: Server;
let apiUrl: string;

/** A stand-in bank API that enforces Gatehouse tokens with the shipped verifier. */
function startBankApi(): Promise<void> {
  const verify = createAccessTokenVerifier({ issuer: plane.url, audience: 'https://api.bank.example', jwks: new URL(`${plane.url}/.well-known/jwks.json`) });
  api = createServer((req, res) => {
    void (async () => {
      try {
        const access: VerifiedAccess = await verify(
          { authorization: req.headers.authorization, dpop: req.headers.dpop as string | undefined, method: req.method ?? 'GET', url: `${apiUrl}${req.url}` },
          ['reference-data:read'],
        );
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clientId: access.clientId, jkt: access.jkt ?? null }));
      } catch (error) {
        const e = error as AccessError;
        res.writeHead(e.status ?? 500, { 'www-authenticate': e.wwwAuthenticate ?? '' }).end(JSON.stringify({ error: e.code }));
      }
    })();
  });
  return new Promise((resolve) =>
    api.listen(0, '127.0.0.1', () => {
      apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

beforeAll(async () => {
  plane = await startTestPlane();
  await startBankApi();
});
afterAll(async () => {
  await new Promise<void>((resolve) => api?.close(() => resolve()));
  await plane?.close();
});

async function keyPair(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; jwk: Record<string, unknown> }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { ...pair, jwk: { ...(await exportJWK(pair.publicKey)), kid: `k-${Math.random().toString(36).slice(2)}`, alg: 'ES256', use: 'sig' } };
}

async function configFor(clientId: string, privateKey: CryptoKey, kid: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(plane.url), clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid }), {
    algorithm: 'oauth2',
    execute: [oidc.allowInsecureRequests],
  });
}

describe('local mode over HTTP: private_key_jwt, DPoP, introspection and revocation', () => {
  it('issues a token to a private_key_jwt client (openid-client) that the shipped verifier accepts', async () => {
    const keys = await keyPair();
    const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.jwk] } }));
    expect(reg.status).toBe(201);
    expect(reg.json).not.toHaveProperty('client_secret');
    const config = await configFor(String(reg.json['client_id']), keys.privateKey, String(keys.jwk['kid']));

    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${apiUrl}/rates`), 'GET');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ clientId: reg.json['client_id'], jkt: null });
  });

  it('holds a client that registers with dpop_bound_access_tokens to DPoP at the token endpoint (RFC 9449 section 5.2)', async () => {
    const keys = await keyPair();
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.jwk] }, dpop_bound_access_tokens: true }),
    );
    expect(reg.status).toBe(201);
    expect(reg.json['dpop_bound_access_tokens']).toBe(true);
    const config = await configFor(String(reg.json['client_id']), keys.privateKey, String(keys.jwk['kid']));

    await expect(oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' }, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
  });

  it('binds tokens to a DPoP key (openid-client DPoP) and the verifier demands the proof', async () => {
    const keys = await keyPair();
    const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.jwk] } }));
    const config = await configFor(String(reg.json['client_id']), keys.privateKey, String(keys.jwk['kid']));
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));

    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' }, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const withProof = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${apiUrl}/rates`), 'GET', undefined, undefined, { DPoP: dpop });
    expect(withProof.status).toBe(200);
    expect(((await withProof.json()) as { jkt: string }).jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The same token without its proof is refused, as a plain bearer token too.
    const bare = await fetch(`${apiUrl}/rates`, { headers: { authorization: `DPoP ${tokens.access_token}` } });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toContain('invalid_dpop_proof');
    const asBearer = await fetch(`${apiUrl}/rates`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(asBearer.status).toBe(401);
  });

  it('refuses a client secret for a private_key_jwt client and a replayed assertion', async () => {
    const keys = await keyPair();
    const reg = await postJson(`${plane.url}/register`, publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [keys.jwk] } }));
    const clientId = String(reg.json['client_id']);
    const secretTry = await fetch(`${plane.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:guess`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(secretTry.status).toBe(401);
    expect(((await secretTry.json()) as { error: string }).error).toBe('invalid_client');

    const { SignJWT } = await import('jose');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: String(keys.jwk['kid']) })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(plane.url)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti('assertion-once')
      .sign(keys.privateKey);
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    });
    const first = await fetch(`${plane.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(first.status).toBe(200);
    const replay = await fetch(`${plane.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error_description: string }).error_description).toContain('replay');
  });

  it('requires DPoP for a high-risk consumer once approved by two reviewers', async () => {
    const reg = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'] });
    expect(reg.status).toBe(202);
    const clientId = reg.clientId;

    await approveByEmail(plane, clientId, ['alice.reviewer@bank.example', 'bob.reviewer@bank.example']);
    await expect.poll(async () => (await plane.services.consumers.getConsumer(clientId))?.status, { timeout: 5000 }).toBe('active');

    const config = await configFor(clientId, reg.privateKey, reg.kid);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'payments:initiate' })).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'payments:initiate' }, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(tokens.expires_in).toBe(300);
  });

  it('introspection turns inactive at once after suspension and after revocation', async () => {
    // The resource server: an internal consumer with tokens:introspect.
    const statement = await plane.softwareStatements.sign({ software_id: 'accounts-api', tier: 'internal' });
    const rs = await postJson(
      `${plane.url}/register`,
      publicRequest({
        tier: 'internal',
        scope: 'tokens:introspect',
        data_classes: ['operational'],
        purpose: 'Accounts API checks tokens before serving',
        software_statement: statement,
      }),
    );
    expect(rs.status).toBe(201);
    const rsConfig = await oidc.discovery(
      new URL(plane.url),
      String(rs.json['client_id']),
      undefined,
      oidc.ClientSecretBasic(String(rs.json['client_secret'])),
      {
        algorithm: 'oauth2',
        execute: [oidc.allowInsecureRequests],
      },
    );

    const issueToken = async () => {
      const reg = await postJson(`${plane.url}/register`, publicRequest());
      const cfg = await oidc.discovery(
        new URL(plane.url),
        String(reg.json['client_id']),
        undefined,
        oidc.ClientSecretBasic(String(reg.json['client_secret'])),
        {
          algorithm: 'oauth2',
          execute: [oidc.allowInsecureRequests],
        },
      );
      return { clientId: String(reg.json['client_id']), cfg, token: (await oidc.clientCredentialsGrant(cfg)).access_token };
    };

    const a = await issueToken();
    expect(await oidc.tokenIntrospection(rsConfig, a.token)).toMatchObject({ active: true, client_id: a.clientId, scope: 'reference-data:read' });
    await oidc.tokenRevocation(a.cfg, a.token);
    expect(await oidc.tokenIntrospection(rsConfig, a.token)).toEqual({ active: false });

    const b = await issueToken();
    expect((await oidc.tokenIntrospection(rsConfig, b.token)).active).toBe(true);
    const { transition } = await import('../../lambdas/core/consumer/transition.js');
    await transition(plane.services, { clientId: b.clientId, to: 'suspended', event: 'consumer.suspended', actor: { kind: 'operator', id: 'test' }, data: {} });
    expect(await oidc.tokenIntrospection(rsConfig, b.token)).toEqual({ active: false });

    // A consumer without tokens:introspect may not introspect.
    await expect(oidc.tokenIntrospection(a.cfg, b.token)).rejects.toMatchObject({ error: 'unauthorized_client' });
  });
});
