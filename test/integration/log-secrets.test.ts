import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { currentLogKeys } from '../../lambdas/core/log-context.js';
import type { Log } from '../../lambdas/core/services.js';
import { postJson, publicRequest, registerPartner, startTestPlane } from './local-mode.js';
import { reviewLink } from './outbox.js';
import { awaitReviewEmail, openReviewPage, submitDecision } from './review-flow.js';

const ALICE = 'alice.reviewer@bank.example';

/** Every log entry the plane writes through the Log port, serialised as the adapters write it (scope keys included). */
const entries: string[] = [];
const recording = (level: string) => (message: string, extra?: Record<string, unknown>) =>
  void entries.push(JSON.stringify({ level, message, ...currentLogKeys(), ...extra }));
const log: Log = { info: recording('INFO'), warn: recording('WARN'), error: recording('ERROR') };

/** What must never reach a log line, by name (so a failure says which). */
const secrets = new Map<string, string>();
const keep = (name: string, value: string): string => {
  expect(value.length, name).toBeGreaterThanOrEqual(16);
  secrets.set(name, value);
  return value;
};

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ log, reviewers: { default: [ALICE] } });
  keep('admin token', plane.adminToken);
});
afterAll(async () => {
  await plane?.close();
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const tokenRequest = (body: string, authorization?: string) =>
  fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
    body,
  });

describe('local mode over HTTP: logs never carry a secret or a token', () => {
  it('registers with a client secret, gets tokens (with a failing bookkeeping write), reads the registration, rotates the secret', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);
    const secret = keep('client secret', String(reg.json['client_secret']));
    const registrationToken = keep('registration access token', String(reg.json['registration_access_token']));
    keep('Authorization: Basic', basic(clientId, secret));
    keep('Authorization: Bearer (registration)', `Bearer ${registrationToken}`);

    // The liveness write fails, so the core logs a warning on the token path.
    const recordUse = vi
      .spyOn(plane.services.consumers, 'recordUse')
      .mockRejectedValue(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    try {
      const config = await oidc.discovery(new URL(plane.url), clientId, undefined, oidc.ClientSecretBasic(secret), {
        algorithm: 'oauth2',
        execute: [oidc.allowInsecureRequests],
      });
      keep('access token (client_secret_basic)', (await oidc.clientCredentialsGrant(config, { scope: 'reference-data:read' })).access_token);
    } finally {
      recordUse.mockRestore();
    }
    const posted = await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).toString());
    // The consumer registered for client_secret_basic: the body method is refused, with the secret in the request.
    expect(posted.status).toBe(401);
    expect((await tokenRequest('grant_type=client_credentials', basic(clientId, `${secret.slice(0, -2)}xx`))).status).toBe(401);
    expect((await tokenRequest('grant_type=client_credentials&scope=payments:initiate', basic(clientId, secret))).status).toBe(400);

    const read = await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${registrationToken}` } });
    expect(read.status).toBe(200);
    const nextToken = String(((await read.json()) as Record<string, unknown>)['registration_access_token']);
    keep('replaced registration access token', nextToken);
    expect((await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${registrationToken}x` } })).status).toBe(401);

    const rotate = await fetch(`${plane.url}/admin/consumers/${clientId}/rotate-secret`, {
      method: 'POST',
      headers: { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'suspected leak in a CI log' }),
    });
    expect(rotate.status).toBe(202);
    const after = (await (await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${nextToken}` } })).json()) as Record<
      string,
      unknown
    >;
    keep('rotated client secret', String(after['client_secret']));
    expect(after['client_secret']).not.toBe(secret);
  });

  it('takes a request through review: the reviewer opens the link, decides, and reuses it', async () => {
    const { status, clientId, json } = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    expect(status).toBe(202);
    keep('registration access token (review)', String(json['registration_access_token']));
    const link = reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1));
    const linkToken = keep('review link token', new URL(link).searchParams.get('t')!);
    keep('review link token (as in the URL)', encodeURIComponent(linkToken));
    const page = await openReviewPage(link);
    expect(page.status).toBe(200);
    keep('CSRF token', page.fields['csrf']!);

    expect((await submitDecision(link, 'approve', 'Contract on file')).status).toBe(200);
    await expect.poll(async () => (await plane.services.consumers.getConsumer(clientId))?.status, { timeout: 5000 }).toBe('active');
    // Reused: the page is refused (already decided), so the form carries no CSRF token and the post is refused too.
    expect((await openReviewPage(link)).status).toBe(409);
    expect((await submitDecision(link, 'approve', 'again')).status).toBe(403);
  });

  it('wrote log lines during all that, with correlation ids, and none holds any of the secrets', () => {
    expect(entries.length).toBeGreaterThan(5);
    expect(entries.some((e) => e.includes('"message":"could not record use"') && e.includes('"correlation_id"'))).toBe(true);
    expect(entries.some((e) => e.includes('"message":"review requested"') && e.includes('"correlation_id":"review-'))).toBe(true);
    expect(secrets.size).toBeGreaterThanOrEqual(10);
    for (const [name, value] of secrets) {
      const leaks = entries.filter((e) => e.includes(value));
      expect(leaks, `${name} was logged`).toEqual([]);
    }
  });
});
