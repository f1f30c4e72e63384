import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';
import { readOutbox } from './outbox.js';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ consumerCacheMs: 0 });
});
afterAll(async () => {
  await plane?.close();
});

async function admin(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token: string | null = plane.adminToken,
): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

async function registered(): Promise<{ clientId: string; secret: string; registrationToken: string }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  return {
    clientId: String(reg.json['client_id']),
    secret: String(reg.json['client_secret']),
    registrationToken: String(reg.json['registration_access_token']),
  };
}

async function tokenStatus(clientId: string, secret: string): Promise<number> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  await res.arrayBuffer();
  return res.status;
}

describe('local mode: admin API', () => {
  it('refuses calls without the admin token (IAM stands in locally), changing nothing', async () => {
    const { clientId } = await registered();
    const before = await tableSnapshot(plane);
    for (const token of [null, 'not-the-admin-token', '']) {
      for (const [method, path] of [
        ['GET', '/admin/consumers'],
        ['GET', `/admin/consumers/${clientId}`],
        ['POST', `/admin/consumers/${clientId}/terminate`],
      ] as const) {
        const res = await admin(method, path, method === 'POST' ? { reason: 'no auth' } : undefined, token);
        expect(res.status).toBe(401);
        expect(res.type).toBe('application/problem+json');
      }
    }
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it('shows a consumer with its verified trail, and the evidence endpoint detects a tampered record', async () => {
    const { clientId, secret } = await registered();
    expect(await tokenStatus(clientId, secret)).toBe(200);

    const got = await admin('GET', `/admin/consumers/${clientId}`);
    expect(got.status).toBe(200);
    expect(got.json['audit']).toMatchObject({ chain_verified: true });
    expect(JSON.stringify(got.json)).not.toContain('secretHash');
    expect(JSON.stringify(got.json)).not.toContain(secret);

    const evidence = await admin('GET', `/admin/consumers/${clientId}/evidence`);
    expect(evidence.status).toBe(200);
    expect(evidence.json).toMatchObject({
      chain: { verified: true },
      binding: { tier: 'public', purpose: expect.any(String), data_classes: ['public'], scopes: ['reference-data:read'] },
      scope_usage: { used: ['reference-data:read'], granted_unused: [] },
    });
    const ids = (evidence.json['controls'] as Array<{ id: string }>).map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['NHI1', 'NHI5', 'NHI7', 'PR.AA-01', 'PR.AA-05']));

    // Someone edits a stored audit record behind Gatehouse's back.
    await plane.documentClient.send(
      new UpdateCommand({
        TableName: plane.tableName,
        Key: { pk: `CONSUMER#${clientId}`, sk: 'AUDIT#0000000002' },
        UpdateExpression: 'SET #data.#outcome = :forged',
        ExpressionAttributeNames: { '#data': 'data', '#outcome': 'outcome' },
        ExpressionAttributeValues: { ':forged': 'review' },
      }),
    );
    const tampered = await admin('GET', `/admin/consumers/${clientId}/evidence`);
    expect(tampered.json['chain']).toMatchObject({ verified: false, broken_at: 2 });
  });

  it('suspends, terminates and rotates with a reason, each audited under the operator', async () => {
    const a = await registered();
    expect((await admin('POST', `/admin/consumers/${a.clientId}/suspend`, {})).status).toBe(400);
    const suspended = await admin('POST', `/admin/consumers/${a.clientId}/suspend`, { reason: 'incident INC-42' });
    expect(suspended.status).toBe(200);
    expect(suspended.json['consumer']).toMatchObject({ status: 'suspended' });
    expect(await tokenStatus(a.clientId, a.secret)).toBe(401);

    const terminated = await admin('POST', `/admin/consumers/${a.clientId}/terminate`, { reason: 'contract ended' });
    expect(terminated.json['consumer']).toMatchObject({ status: 'revoked' });
    const trail = await plane.services.consumers.listAudit(a.clientId);
    expect(trail.at(-2)).toMatchObject({
      type: 'consumer.suspended',
      actor: { kind: 'operator', id: expect.stringContaining('gatehouse-local-admin') },
      data: { detail: 'incident INC-42' },
    });
    expect(trail.at(-1)).toMatchObject({ type: 'consumer.revoked', actor: { kind: 'operator' }, data: { reason: 'terminated', detail: 'contract ended' } });
    expect(await plane.services.clientSecrets.staged(a.clientId).read({ stage: 'AWSCURRENT' })).toBeUndefined();
    // Terminating twice is harmless; suspending a revoked consumer is a conflict.
    expect((await admin('POST', `/admin/consumers/${a.clientId}/terminate`, { reason: 'again' })).status).toBe(200);
    expect((await admin('POST', `/admin/consumers/${a.clientId}/suspend`, { reason: 'late' })).status).toBe(409);
    // The contacts were told of each change once, through the notice workflow (the ASL file the stack deploys).
    await plane.notices.drain();
    const notices = readOutbox(plane.outboxDir).filter((m) => m.text.includes(a.clientId));
    expect(notices.map((m) => [m.to, m.subject.replace(/ for .*$/, '')])).toEqual([
      [['dev@fintech.example'], '[Gatehouse] Access suspended'],
      [['dev@fintech.example'], '[Gatehouse] Access revoked'],
    ]);
    expect(notices[0]!.text).toContain('incident INC-42');

    const b = await registered();
    const rotate = await admin('POST', `/admin/consumers/${b.clientId}/rotate-secret`, { reason: 'suspected leak in CI logs' });
    expect(rotate.status).toBe(202);
    const read = (await (await fetch(`${plane.url}/register/${b.clientId}`, { headers: { authorization: `Bearer ${b.registrationToken}` } })).json()) as Record<
      string,
      unknown
    >;
    expect(read['client_secret']).not.toBe(b.secret);
    expect(await tokenStatus(b.clientId, String(read['client_secret']))).toBe(200);
    expect(await tokenStatus(b.clientId, b.secret)).toBe(200); // grace window
    expect((await plane.services.consumers.listAudit(b.clientId)).map((e) => e.type)).toContain('credentials.rotation_requested');
    expect((await admin('POST', `/admin/consumers/${b.clientId}/rotate-secret`, { reason: 'again' })).status).toBe(409);
    expect((await admin('POST', '/admin/consumers/gh_nobody/rotate-secret', { reason: 'who' })).status).toBe(404);
  });

  it.each([
    ['a key that is not the table key', { a: 1 }],
    ['key attributes that are not strings', { pk: 1, sk: { S: 'x' } }],
    ['an empty key attribute', { pk: '', sk: '' }],
    ['an extra attribute', { pk: 'CONSUMER#gh_x', sk: 'CONSUMER', status: 'active' }],
    ['a list', [1, 2]],
    ['a string', 'pk'],
  ])('answers a cursor holding %s with 400 invalid-cursor on both admin lists', async (_name, key) => {
    const cursor = Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const path of ['/admin/consumers', '/admin/exceptions']) {
      const res = await admin('GET', `${path}?cursor=${cursor}`);
      expect(res.status, path).toBe(400);
      expect(res.json['type'], path).toMatch(/invalid-cursor$/);
    }
  });

  it('lists and filters consumers, and dry-runs the policy without writing', async () => {
    const all = await admin('GET', '/admin/consumers?limit=500');
    expect(all.status).toBe(200);
    const consumers = all.json['consumers'] as Array<{ clientId: string; status: string }>;
    expect(consumers.length).toBeGreaterThanOrEqual(4);
    const revoked = await admin('GET', '/admin/consumers?status=revoked&limit=500');
    expect((revoked.json['consumers'] as Array<{ status: string }>).every((c) => c.status === 'revoked')).toBe(true);
    expect((revoked.json['consumers'] as unknown[]).length).toBeGreaterThanOrEqual(1);
    const expiring = await admin('GET', '/admin/consumers?expiring_within_days=365&limit=500');
    expect((expiring.json['consumers'] as Array<{ status: string }>).every((c) => c.status === 'active' || c.status === 'suspended')).toBe(true);
    expect((await admin('GET', '/admin/consumers?status=bogus')).status).toBe(400);
    expect((await admin('GET', '/admin/consumers?cursor=not-a-cursor')).status).toBe(400);

    const before = (await plane.documentClient.send(new ScanCommand({ TableName: plane.tableName }))).Count;
    const dry = await admin('POST', '/admin/policy/evaluate', {
      tier: 'partner',
      scope: 'payments:initiate',
      purpose: 'Initiate supplier payments from our ERP',
      data_classes: ['payment'],
      contacts: ['ops@erp.example'],
      expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      token_endpoint_auth_method: 'private_key_jwt',
      assume_software_statement: true,
    });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ dry_run: true, outcome: 'review', risk: 'high', policyVersion: plane.services.policy.version });
    expect((await plane.documentClient.send(new ScanCommand({ TableName: plane.tableName }))).Count).toBe(before);
  });
});
