import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, registerPartner, startTestPlane } from './local-mode.js';
import { reviewLink } from './outbox.js';
import { awaitReviewEmail, submitDecision } from './review-flow.js';

const ALICE = 'alice.reviewer@bank.example';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ reviewers: { default: [ALICE] } });
});
afterAll(async () => {
  await plane?.close();
});

/** A stock OAuth client (openid-client) for a registered consumer, over RFC 8414 discovery. */
function oauthClient(clientId: string, clientSecret: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(plane.url), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
    algorithm: 'oauth2',
    execute: [oidc.allowInsecureRequests],
  });
}

describe('local mode over HTTP: metrics', () => {
  it('counts an automatic registration and the tokens issued to it, by tier and risk', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    expect(reg.status).toBe(201);
    expect(plane.metrics.total('RegistrationDecisions', { path: 'auto', tier: 'public' })).toBe(1);

    const config = await oauthClient(String(reg.json['client_id']), String(reg.json['client_secret']));
    for (let i = 0; i < 3; i++) await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' });

    expect(plane.metrics.total('TokensIssued', { tier: 'public', risk: 'low' })).toBe(3);
    expect(plane.metrics.total('TokensIssued')).toBe(3);
    expect(plane.metrics.total('TokenRequestsRefused')).toBe(0);
  });

  it('counts refused token requests by OAuth error code, and issues nothing for them', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const issued = plane.metrics.total('TokensIssued');

    await expect(oidc.clientCredentialsGrant(await oauthClient(String(reg.json['client_id']), 'not-the-secret'))).rejects.toMatchObject({ status: 401 });
    await expect(
      oidc.clientCredentialsGrant(await oauthClient(String(reg.json['client_id']), String(reg.json['client_secret'])), { scope: 'payments:initiate' }),
    ).rejects.toMatchObject({
      error: 'invalid_scope',
    });

    expect(plane.metrics.total('TokenRequestsRefused', { error: 'invalid_client' })).toBe(1);
    expect(plane.metrics.total('TokenRequestsRefused', { error: 'invalid_scope' })).toBe(1);
    expect(plane.metrics.total('TokensIssued')).toBe(issued);
  });

  it("counts a denied registration and one sent to review, then the reviewer's decision and the review latency", async () => {
    const denied = await postJson(`${plane.url}/register`, publicRequest({ scope: 'payments:initiate', data_classes: ['payment'] }));
    expect(denied.status).toBe(403);
    expect(plane.metrics.total('RegistrationDecisions', { path: 'deny', tier: 'public' })).toBe(1);

    const { status, clientId } = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    expect(status).toBe(202);
    expect(plane.metrics.total('RegistrationDecisions', { path: 'review', tier: 'partner' })).toBe(1);

    const mail = await awaitReviewEmail(plane, ALICE, clientId, 1);
    expect((await submitDecision(reviewLink(mail), 'approve', 'Contract on file')).status).toBe(200);
    expect(plane.metrics.total('ReviewsDecided', { decision: 'approve' })).toBe(1);
    await expect.poll(() => plane.metrics.count('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }), { timeout: 5000 }).toBe(1);
    const latency = plane.metrics.snapshot().find((s) => s.name === 'ReviewLatency')!;
    expect(latency.sum).toBeGreaterThanOrEqual(0);
    expect(latency.sum).toBeLessThan(60);
  });

  it('records the review latency of a change request by its kind (an exception to a policy rule)', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const clientId = String(reg.json['client_id']);
    const asked = await postJson(
      `${plane.url}/admin/exceptions`,
      {
        client_id: clientId,
        rule: 'dormancy_days',
        value: 120,
        justification: 'Seasonal client, used once per quarter only',
        expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      },
      { authorization: `Bearer ${plane.adminToken}` },
    );
    expect(asked.status).toBe(202);
    expect(plane.metrics.total('AdminActions', { action: 'request_exception' })).toBe(1);

    const mail = await awaitReviewEmail(plane, ALICE, clientId, 1);
    expect((await submitDecision(reviewLink(mail), 'approve', 'Seasonal use confirmed')).status).toBe(200);
    await expect.poll(() => plane.metrics.count('ReviewLatency', { kind: 'exception', outcome: 'approved' }), { timeout: 5000 }).toBe(1);
    expect(plane.metrics.count('ReviewLatency', { kind: 'onboarding' })).toBe(1);
  });

  it('counts a sweep, a client-secret rotation and an admin call, with no client id in any dimension', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const clientId = String(reg.json['client_id']);

    await plane.sweep();
    expect(plane.metrics.count('SweepReads')).toBe(1);
    expect(plane.metrics.total('SweepFailed')).toBe(0);

    await plane.rotateClientSecret(clientId);
    expect(plane.metrics.total('SecretRotations', { kind: 'client_secret', outcome: 'success' })).toBe(1);

    const res = await fetch(`${plane.url}/admin/consumers`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
    expect(res.status).toBe(200);
    expect(plane.metrics.total('AdminActions', { action: 'list_consumers' })).toBe(1);

    const dimensionValues = plane.metrics.snapshot().flatMap((s) => Object.values(s.dimensions));
    expect(dimensionValues.length).toBeGreaterThan(0);
    expect(dimensionValues.some((v) => v.startsWith('gh_'))).toBe(false);
  });
});
