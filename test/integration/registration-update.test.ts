import { decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { readOutbox, reviewLink } from './outbox.js';
import { assertionTokenRequest, postJson, publicRequest, registerPartner, startTestPlane, tableSnapshot } from './local-mode.js';
import { approveByEmail, awaitReviewEmail, openReviewPage, submitDecision } from './review-flow.js';

const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let plane: LocalControlPlane;
beforeAll(async () => {
  plane = await startTestPlane({ clock, consumerCacheMs: 0 });
});
afterAll(async () => {
  await plane?.close();
});

type Answer = { status: number; headers: Headers; json: Record<string, unknown> };

async function call(method: 'GET' | 'PUT' | 'DELETE', clientId: string, token: string | undefined, body?: unknown): Promise<Answer> {
  const res = await fetch(`${plane.url}/register/${encodeURIComponent(clientId)}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const put = (clientId: string, token: string | undefined, body: unknown) => call('PUT', clientId, token, body);

/** Registers a low-risk public consumer (auto-approved) and returns its registration response. */
async function registerPublic(overrides: Record<string, unknown> = {}): Promise<{ clientId: string; token: string; json: Record<string, unknown> }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest({ expires_at: new Date(clock.now().getTime() + 90 * DAY).toISOString(), ...overrides }));
  expect(reg.status).toBe(201);
  return { clientId: String(reg.json['client_id']), token: String(reg.json['registration_access_token']), json: reg.json };
}

async function secretToken(clientId: string, secret: string, scope?: string): Promise<Response> {
  return fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
}

/** A token request with a client assertion signed by `key`, its times taken from the control plane's clock. */
function assertionToken(clientId: string, privateKey: CryptoKey, kid: string, scope?: string): Promise<Response> {
  return assertionTokenRequest(plane, clientId, { privateKey, kid }, { now: clock.now(), ...(scope ? { scope } : {}) });
}

async function signingKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown> }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** RFC 7592 updates counted so far, by outcome (`RegistrationUpdates`), and deletes (`RegistrationsDeleted`). */
const counted = () => ({
  applied: plane.metrics.total('RegistrationUpdates', { outcome: 'applied' }),
  review: plane.metrics.total('RegistrationUpdates', { outcome: 'review' }),
  denied: plane.metrics.total('RegistrationUpdates', { outcome: 'denied' }),
  conflict: plane.metrics.total('RegistrationUpdates', { outcome: 'conflict' }),
  deleted: plane.metrics.total('RegistrationsDeleted'),
});

/** What was counted since `before`, by outcome. */
const countedSince = (before: ReturnType<typeof counted>) => {
  const now = counted();
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
};
const NONE = { applied: 0, review: 0, denied: 0, conflict: 0, deleted: 0 };

const mailsTo = (address: string, subject: string) => readOutbox(plane.outboxDir).filter((m) => m.to.includes(address) && m.subject.includes(subject));

describe('PUT /register/{client_id} (RFC 7592 update) over HTTP', () => {
  it('applies a narrowing update at once: new name, earlier end, new contacts; the token rotates and both contact lists are told', async () => {
    const { clientId, token, json } = await registerPublic({ contacts: ['old-owner@fintech.example'] });
    const before = counted();
    const end = new Date(clock.now().getTime() + 30 * DAY).toISOString();
    // The read response sent back with changes, as RFC 7592 section 2.2 expects (server-only members are ignored).
    const res = await put(clientId, token, { ...json, client_name: 'FX widget v2', expires_at: end, contacts: ['new-owner@fintech.example'] });
    expect(res.status).toBe(200);
    expect(countedSince(before)).toEqual({ ...NONE, applied: 1 });
    expect(res.json).toMatchObject({
      client_id: clientId,
      client_name: 'FX widget v2',
      expires_at: end,
      contacts: ['new-owner@fintech.example'],
      status: 'active',
    });
    const rotated = String(res.json['registration_access_token']);
    expect(rotated).not.toBe(token);
    expect((await call('GET', clientId, token)).status).toBe(401);
    expect((await call('GET', clientId, rotated)).json).toMatchObject({ client_name: 'FX widget v2' });

    await expect.poll(() => mailsTo('new-owner@fintech.example', 'You are now a contact').length, { timeout: 5000 }).toBe(1);
    await expect.poll(() => mailsTo('old-owner@fintech.example', 'Contacts changed').length, { timeout: 5000 }).toBe(1);
    expect(mailsTo('old-owner@fintech.example', 'Contacts changed')[0]!.text).toContain('new-owner@fintech.example');

    const audit = await plane.services.consumers.listAudit(clientId);
    expect(audit.filter((e) => e.type === 'consumer.updated')).toMatchObject([{ actor: { kind: 'consumer', id: clientId }, data: { path: 'narrows' } }]);
    // The secret still works, and its end moved with the grant's.
    expect((await secretToken(clientId, String(json['client_secret']))).status).toBe(200);
    expect((await plane.services.consumers.getConsumer(clientId))?.secretExpiresAt).toBe(end);
  });

  it('removes a scope at once: the token endpoint refuses it from then on', async () => {
    const statement = await plane.softwareStatements.sign({ software_id: `rs-${START}`, tier: 'internal' });
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({
        tier: 'internal',
        scope: 'reference-data:read tokens:introspect',
        data_classes: ['public', 'operational'],
        software_statement: statement,
      }),
    );
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);
    const secret = String(reg.json['client_secret']);
    expect((await secretToken(clientId, secret, 'tokens:introspect')).status).toBe(200);

    const res = await put(clientId, String(reg.json['registration_access_token']), { ...reg.json, scope: 'reference-data:read' });
    expect(res.status).toBe(200);
    expect(res.json['scope']).toBe('reference-data:read');
    const refused = await secretToken(clientId, secret, 'tokens:introspect');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('applies an update the policy approves by itself (a later end within the low-risk maximum) at once', async () => {
    const { clientId, token, json } = await registerPublic();
    const end = new Date(clock.now().getTime() + 200 * DAY).toISOString();
    const before = counted();
    const res = await put(clientId, token, { ...json, expires_at: end });
    expect(res.status).toBe(200);
    expect(countedSince(before)).toEqual({ ...NONE, applied: 1 });
    expect(res.json).toMatchObject({ expires_at: end, risk: 'low' });
    const audit = await plane.services.consumers.listAudit(clientId);
    expect(audit.at(-1)).toMatchObject({ type: 'consumer.updated', data: { path: 'policy_auto', changes: [`extend access until ${end}`] } });
  });

  it('refuses an update the policy denies with its reasons, and changes nothing (not even the token)', async () => {
    const { clientId, token, json } = await registerPublic();
    const before = await tableSnapshot(plane);
    const countedBefore = counted();
    const res = await put(clientId, token, { ...json, scope: 'reference-data:read accounts:read', data_classes: ['public', 'confidential'] });
    expect(res.status).toBe(403);
    expect(countedSince(countedBefore)).toEqual({ ...NONE, denied: 1 });
    expect(res.json).toMatchObject({ error: 'access_denied' });
    expect((res.json['reasons'] as Array<{ code: string }>).map((r) => r.code)).toContain('scope_not_allowed_for_tier');
    expect(await tableSnapshot(plane)).toEqual(before);
    expect((await call('GET', clientId, token)).status).toBe(200);
  });

  it('sends an update that raises risk to review (202): the current grant holds until a reviewer approves from the emailed link', async () => {
    const partner = await registerPartner(plane, { scope: 'reference-data:read', data_classes: ['public'] });
    expect(partner.status).toBe(201);
    const { clientId, privateKey, kid } = partner;
    const statement = await plane.softwareStatements.sign({ software_id: String(partner.json['software_id']), tier: 'partner' });
    const before = counted();
    const res = await put(clientId, String(partner.json['registration_access_token']), {
      ...partner.json,
      scope: 'reference-data:read accounts:read',
      data_classes: ['public', 'confidential'],
      software_statement: statement,
    });
    expect(res.status).toBe(202);
    expect(countedSince(before)).toEqual({ ...NONE, review: 1 });
    expect(res.json).toMatchObject({ scope: 'reference-data:read', update_request: { status: 'pending_review' } });
    const token = String(res.json['registration_access_token']);
    expect(token).not.toBe(partner.json['registration_access_token']);
    const requestId = (res.json['update_request'] as { request_id: string }).request_id;
    expect(requestId).toMatch(/^upd-/);

    // Until approval: the current grant only, and a second update waits for the decision.
    expect((await assertionToken(clientId, privateKey, kid, 'accounts:read')).status).toBe(400);
    expect((await assertionToken(clientId, privateKey, kid, 'reference-data:read')).status).toBe(200);
    expect((await call('GET', clientId, token)).json['update_request']).toMatchObject({ request_id: requestId, status: 'pending_review' });
    const second = await put(clientId, token, { ...partner.json, client_name: 'Other name' });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ error: 'update_conflict' });
    expect(countedSince(before)).toEqual({ ...NONE, review: 1, conflict: 1 });

    // The reviewer sees what the update changes and the registration it would make.
    const mail = await awaitReviewEmail(plane, 'alice.reviewer@bank.example', clientId, 1);
    expect(mail.subject).toContain('registration update');
    expect(mail.text).toContain('Update the registration (asked by the consumer): add scope accounts:read; add data class confidential');
    expect(mail.text).toContain('accounts:read (medium risk)');
    await approveByEmail(plane, clientId, ['alice.reviewer@bank.example']);
    await expect.poll(async () => (await call('GET', clientId, token)).json['update_request'], { timeout: 5000 }).toMatchObject({ status: 'approved' });
    expect((await call('GET', clientId, token)).json).toMatchObject({
      scope: 'reference-data:read accounts:read',
      risk: 'medium',
      data_classes: ['public', 'confidential'],
    });
    expect((await assertionToken(clientId, privateKey, kid, 'accounts:read')).status).toBe(200);
  });

  it('leaves the registration as it was when the reviewer denies the update, and the read shows the outcome', async () => {
    const partner = await registerPartner(plane, { scope: 'reference-data:read', data_classes: ['public'] });
    const { clientId } = partner;
    const statement = await plane.softwareStatements.sign({ software_id: String(partner.json['software_id']), tier: 'partner' });
    const res = await put(clientId, String(partner.json['registration_access_token']), {
      ...partner.json,
      scope: 'reference-data:read accounts:read',
      data_classes: ['public', 'confidential'],
      software_statement: statement,
    });
    expect(res.status).toBe(202);
    const token = String(res.json['registration_access_token']);
    const mail = await awaitReviewEmail(plane, 'bob.reviewer@bank.example', clientId, 1);
    expect((await submitDecision(reviewLink(mail), 'deny', 'Not needed for supplier payments')).status).toBe(200);
    await expect
      .poll(async () => (await call('GET', clientId, token)).json['update_request'], { timeout: 5000 })
      .toMatchObject({ status: 'denied', outcome_reason: 'Not needed for supplier payments' });
    expect((await call('GET', clientId, token)).json).toMatchObject({ scope: 'reference-data:read', data_classes: ['public'], risk: 'low' });
    // Once decided, the consumer may send another update.
    expect((await put(clientId, token, { ...partner.json, client_name: 'SME payments v2' })).status).toBe(200);
  });

  it('rolls a private_key_jwt key: the removed key works through the grace window (24 h) and is refused after it', async () => {
    const k1 = await signingKey('k1');
    const k2 = await signingKey('k2');
    const { clientId, token, json } = await registerPublic({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [k1.jwk] } });

    const noUsable = await put(clientId, token, { ...json, jwks: { keys: [{ ...k2.jwk, use: 'enc' }] } });
    expect(noUsable.status).toBe(400);
    expect(noUsable.json).toMatchObject({ error: 'invalid_client_metadata', field: 'jwks' });

    const res = await put(clientId, token, { ...json, jwks: { keys: [k2.jwk] } });
    expect(res.status).toBe(200);
    expect(res.json['jwks']).toEqual({ keys: [k2.jwk] });

    // A stock client with the new key.
    const config = await oidc.discovery(new URL(plane.url), clientId, undefined, oidc.PrivateKeyJwt({ key: k2.privateKey, kid: 'k2' }), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    expect((await oidc.clientCredentialsGrant(config)).access_token).toBeTruthy();
    expect((await assertionToken(clientId, k1.privateKey, 'k1')).status).toBe(200);

    offset += 23 * HOUR;
    expect((await assertionToken(clientId, k1.privateKey, 'k1')).status).toBe(200);
    offset += 2 * HOUR;
    const late = await assertionToken(clientId, k1.privateKey, 'k1');
    expect(late.status).toBe(401);
    expect(await late.json()).toMatchObject({ error: 'invalid_client' });
    expect((await assertionToken(clientId, k2.privateKey, 'k2')).status).toBe(200);
  });

  it('resolves concurrent updates of one registration to one outcome: one 200, the others update_conflict', async () => {
    const { clientId, token, json } = await registerPublic();
    const before = counted();
    const answers = await Promise.all(['A', 'B', 'C'].map((n) => put(clientId, token, { ...json, client_name: `Name ${n}` })));
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a).toMatchObject({ status: 409, json: { error: 'update_conflict' } });
    expect(countedSince(before)).toEqual({ ...NONE, applied: 1, conflict: 2 });
    const current = await call('GET', clientId, String(ok[0]!.json['registration_access_token']));
    expect(current.json['client_name']).toBe(ok[0]!.json['client_name']);
    expect((await plane.services.consumers.listAudit(clientId)).filter((e) => e.type === 'consumer.updated')).toHaveLength(1);
  });

  it('answers bad updates with RFC 7591 errors (RFC 6750 401 without a valid token) and changes nothing', async () => {
    const { clientId, token, json } = await registerPublic();
    const before = await tableSnapshot(plane);
    const countedBefore = counted();
    const cases: Array<[unknown, string | undefined, number, string, string?]> = [
      [json, undefined, 401, 'invalid_token'],
      [json, 'not-the-token', 401, 'invalid_token'],
      [{ ...json, client_id: 'gh_someone_else' }, token, 400, 'invalid_client_metadata', 'client_id'],
      [{ ...json, client_id: undefined }, token, 400, 'invalid_client_metadata', 'client_id'],
      [{ ...json, client_secret: 'chosen-by-me' }, token, 400, 'invalid_client_metadata', 'client_secret'],
      [{ ...json, tier: 'partner' }, token, 400, 'invalid_client_metadata', 'tier'],
      [{ ...json, token_endpoint_auth_method: 'private_key_jwt' }, token, 400, 'invalid_client_metadata', 'jwks'],
      [{ ...json, expires_at: undefined }, token, 400, 'invalid_client_metadata', 'expires_at'],
      [{ ...json, expires_at: new Date(clock.now().getTime() - DAY).toISOString() }, token, 400, 'invalid_client_metadata', 'expires_at'],
      [{ ...json, scope: 'bad"scope' }, token, 400, 'invalid_client_metadata', 'scope'],
      [{ ...json, client_name: 42 }, token, 400, 'invalid_client_metadata', 'client_name'],
      ['{not json', token, 400, 'invalid_client_metadata'],
      [[1, 2], token, 400, 'invalid_client_metadata'],
    ];
    for (const [body, bearer, status, error, field] of cases) {
      const res = await put(clientId, bearer, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(res.json).toMatchObject({ error, ...(field ? { field } : {}) });
      if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect(await tableSnapshot(plane)).toEqual(before);
    expect(countedSince(countedBefore)).toEqual(NONE);
  });
});

describe('DELETE /register/{client_id} (RFC 7592 delete) over HTTP', () => {
  it('revokes at once: tokens refused, introspection inactive, on the revocation list, contacts told; a second delete gets 401', async () => {
    const statement = await plane.softwareStatements.sign({ software_id: `introspector-${START}`, tier: 'internal' });
    const rs = await postJson(
      `${plane.url}/register`,
      publicRequest({ tier: 'internal', scope: 'tokens:introspect', data_classes: ['operational'], software_statement: statement }),
    );
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
    const { clientId, token, json } = await registerPublic({ contacts: ['leaving@fintech.example'] });
    const secret = String(json['client_secret']);
    const access = (await (await secretToken(clientId, secret)).json()) as { access_token: string };
    expect((await oidc.tokenIntrospection(rsConfig, access.access_token)).active).toBe(true);

    const before = counted();
    const res = await call('DELETE', clientId, token);
    expect(res.status).toBe(204);
    expect(countedSince(before)).toEqual({ ...NONE, deleted: 1 });
    const refused = await secretToken(clientId, secret);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    expect(await oidc.tokenIntrospection(rsConfig, access.access_token)).toEqual({ active: false });
    const list = decodeJwt(await (await fetch(`${plane.url}/oauth2/revocations`)).text()) as { revoked_clients: Array<Record<string, unknown>> };
    expect(list.revoked_clients.find((c) => c['client_id'] === clientId)).toMatchObject({ status: 'revoked' });
    expect(await plane.services.consumers.getConsumer(clientId)).toMatchObject({ status: 'revoked' });
    const audit = await plane.services.consumers.listAudit(clientId);
    expect(audit.at(-1)).toMatchObject({ type: 'consumer.revoked', actor: { kind: 'consumer', id: clientId }, data: { reason: 'deregistered' } });
    await expect.poll(() => mailsTo('leaving@fintech.example', 'Access revoked').length, { timeout: 5000 }).toBe(1);

    // The registration no longer exists for its token (RFC 7592 section 2.3): a repeat, a read and an update all get 401.
    const again = await call('DELETE', clientId, token);
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: 'invalid_token' });
    expect((await call('GET', clientId, token)).status).toBe(401);
    expect((await put(clientId, token, json)).status).toBe(401);
    expect(countedSince(before)).toEqual({ ...NONE, deleted: 1 });
  });

  it("withdraws a registration under review (204): reviewers' links say the request ended, it cannot be approved, contacts are told", async () => {
    const reviewer = 'alice.reviewer@bank.example';
    const partner = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'], contacts: ['wrong-request@fintech.example'] });
    expect(partner.status).toBe(202);
    const { clientId, privateKey, kid } = partner;
    const token = String(partner.json['registration_access_token']);
    const mail = await awaitReviewEmail(plane, reviewer, clientId, 1);
    // The reviewer opened the page before the withdrawal, so they hold its form and CSRF cookie.
    const opened = await openReviewPage(reviewLink(mail));
    expect(opened.status).toBe(200);

    const before = counted();
    const res = await call('DELETE', clientId, token);
    expect(res.status).toBe(204);
    expect(countedSince(before)).toEqual({ ...NONE, deleted: 1 });

    // The reviewer's emailed link now says the request ended, and an approval from it activates nothing.
    const page = await openReviewPage(reviewLink(mail));
    expect(page.status).toBe(409);
    expect(page.html).toContain('This request has ended: its requester withdrew it before the review was complete.');
    const tableBefore = await tableSnapshot(plane);
    const url = new URL(reviewLink(mail));
    const approve = await fetch(`${url.origin}${url.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: opened.cookie ?? '', origin: url.origin },
      body: new URLSearchParams({ decision: 'approve', comment: 'Looks right', t: opened.fields['t'] ?? '', csrf: opened.fields['csrf'] ?? '' }),
    });
    expect(approve.status).toBe(409);
    expect(await approve.text()).toContain('its requester withdrew it');
    expect(await tableSnapshot(plane)).toEqual(tableBefore);
    expect((await assertionToken(clientId, privateKey, kid, 'accounts:read')).status).toBe(401);

    // The operator sees a withdrawn consumer whose audit chain verifies, ending with the consumer's own withdrawal.
    const shown = await fetch(`${plane.url}/admin/consumers/${clientId}`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
    expect(shown.status).toBe(200);
    const view = (await shown.json()) as { consumer: { status: string }; audit: { chain_verified: boolean; events: Array<Record<string, unknown>> } };
    expect(view.consumer.status).toBe('withdrawn');
    expect(view.audit.chain_verified).toBe(true);
    expect(view.audit.events.at(-1)).toMatchObject({ type: 'consumer.withdrawn', actor: { kind: 'consumer', id: clientId } });
    await expect.poll(() => mailsTo('wrong-request@fintech.example', 'Request withdrawn').length, { timeout: 5000 }).toBe(1);
    expect(mailsTo('wrong-request@fintech.example', 'Request withdrawn')[0]!.text).toContain('withdrawn by its requester');

    // The registration is gone for its token: a second delete gets 401 and counts nothing.
    const again = await call('DELETE', clientId, token);
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: 'invalid_token' });
    expect(countedSince(before)).toEqual({ ...NONE, deleted: 1 });
  });

  it('refuses a delete without a valid registration access token and changes nothing', async () => {
    const { clientId } = await registerPublic();
    const before = await tableSnapshot(plane);
    const countedBefore = counted();
    for (const bearer of [undefined, 'wrong']) {
      const res = await call('DELETE', clientId, bearer);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_token' });
    }
    expect((await call('DELETE', 'gh_nobody_here', 'wrong')).status).toBe(401);
    expect(await tableSnapshot(plane)).toEqual(before);
    expect(countedSince(countedBefore)).toEqual(NONE);
  });
});
