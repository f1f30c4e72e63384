import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => {
  await plane?.close();
});

describe('local mode over HTTP: onboarding and tokens', () => {
  it('registers a low-risk public consumer and issues a token a stock OAuth client can use', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    expect(reg.status).toBe(201);
    expect(reg.json).toMatchObject({ status: 'active', risk: 'low', scope: 'reference-data:read', token_endpoint_auth_method: 'client_secret_basic' });
    const clientId = String(reg.json['client_id']);
    const clientSecret = String(reg.json['client_secret']);
    expect(reg.json['registration_client_uri']).toBe(`${plane.url}/register/${clientId}`);
    expect(Number(reg.json['client_secret_expires_at'])).toBeGreaterThan(Date.now() / 1000);

    // openid-client: RFC 8414 discovery from the metadata endpoint, then client_secret_basic.
    const config = await oidc.discovery(new URL(plane.url), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    expect(config.serverMetadata().token_endpoint).toBe(`${plane.url}/oauth2/token`);
    const before = Math.floor(Date.now() / 1000);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);

    // The token verifies against the served JWKS, with the RFC 9068 claims and the low-risk TTL.
    const jwks = createRemoteJWKSet(new URL(`${plane.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: plane.url,
      audience: 'https://api.bank.example',
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeTypeOf('string');
    expect(payload).toMatchObject({ sub: clientId, client_id: clientId, scope: 'reference-data:read', tier: 'public' });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.iat!).toBeGreaterThanOrEqual(before - 1);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reads a registration back with its registration access token (RFC 7592), with the current secret and that token', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const res = await fetch(String(reg.json['registration_client_uri']), {
      headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ client_id: reg.json['client_id'], status: 'active' });
    // The secret comes from the secret store (how a rotated one is picked up); RFC 7592 section 3 requires the
    // registration access token in the response: a read that hands out the secret replaces it, spending the one presented.
    expect(body['client_secret']).toBe(reg.json['client_secret']);
    expect(body['registration_access_token']).not.toBe(reg.json['registration_access_token']);
    const again = await fetch(String(reg.json['registration_client_uri']), {
      headers: { authorization: `Bearer ${String(body['registration_access_token'])}` },
    });
    expect(again.status).toBe(200);
    const spent = await fetch(String(reg.json['registration_client_uri']), {
      headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
    });
    expect(spent.status).toBe(401);

    const wrong = await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('stores a high-risk partner request as pending review and starts the review workflow', async () => {
    const statement = await plane.softwareStatements.sign({ software_id: 'sme-payments', tier: 'partner', org_name: 'Fintech Ltd' });
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({
        client_name: 'SME payments',
        tier: 'partner',
        scope: 'payments:initiate accounts:read',
        purpose: 'Initiate supplier payments on behalf of SME customers',
        data_classes: ['payment', 'confidential'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] },
        software_statement: statement,
      }),
    );
    expect(reg.status).toBe(202);
    expect(reg.json).toMatchObject({ status: 'pending_review', risk: 'high', approvals_required: 2, dpop_bound_access_tokens: true, access_token_ttl: 300 });
    expect(reg.json).not.toHaveProperty('client_secret');
    const codes = (reg.json['reasons'] as Array<{ code: string }>).map((r) => r.code);
    expect(codes).toEqual(['risk_requires_review', 'payment_initiation_requires_review']);

    // The workflow's first task parks its token server-side and records the review request.
    const clientId = String(reg.json['client_id']);
    await expect
      .poll(async () => (await plane.services.consumers.listAudit(clientId)).map((e) => e.type), { timeout: 5000 })
      .toContain('consumer.review_requested');
    const consumer = await plane.services.consumers.getConsumer(clientId);
    expect(consumer?.status).toBe('pending_review');
    expect(consumer?.reviewExecution).toBe(`review-${clientId}`);
  });

  it('denies a request that breaks policy with its reasons, and writes nothing', async () => {
    const before = await tableSnapshot(plane);
    const res = await postJson(`${plane.url}/register`, publicRequest({ scope: 'payments:initiate', data_classes: ['payment'] }));
    expect(res.status).toBe(403);
    expect(res.json['error']).toBe('access_denied');
    const codes = (res.json['reasons'] as Array<{ code: string }>).map((r) => r.code);
    expect(codes).toEqual(expect.arrayContaining(['scope_not_allowed_for_tier', 'risk_exceeds_tier_maximum', 'data_class_not_allowed_for_tier']));
    expect(res.json['policy_version']).toBe(plane.services.policy.version);
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it('answers a replayed Idempotency-Key with the original response, once stored', async () => {
    const key = 'b7c1d0f2-5a44-4c1e-9a43-6f0d2b7e9c11';
    const first = await postJson(`${plane.url}/register`, publicRequest({ expires_at: '2027-02-01T00:00:00Z' }), { 'idempotency-key': key });
    const count = (await tableSnapshot(plane)).length;
    const again = await postJson(`${plane.url}/register`, publicRequest({ expires_at: '2027-02-01T00:00:00Z' }), { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect((await tableSnapshot(plane)).length).toBe(count);
    const reused = await postJson(`${plane.url}/register`, publicRequest({ client_name: 'Other' }), { 'idempotency-key': key });
    expect(reused.status).toBe(422);
    expect(reused.json['error']).toBe('idempotency_key_reused');
  });

  it('refuses tokens to a consumer that is no longer active', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const clientId = String(reg.json['client_id']);
    const consumer = (await plane.services.consumers.getConsumer(clientId))!;
    const { chainEvent } = await import('../../lambdas/core/audit/event.js');
    await plane.services.consumers.updateConsumer({
      clientId,
      expect: { statuses: ['active'], auditSeq: consumer.auditSeq },
      set: { status: 'suspended' },
      audit: chainEvent(
        { seq: consumer.auditSeq, head: consumer.auditHead },
        { clientId, type: 'consumer.suspended', at: new Date().toISOString(), actor: { kind: 'operator', id: 'test' }, data: {} },
      ),
    });
    const basic = Buffer.from(`${clientId}:${String(reg.json['client_secret'])}`).toString('base64');
    const res = await fetch(`${plane.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });
});
