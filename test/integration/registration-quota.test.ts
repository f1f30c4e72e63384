import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, registerPartner, startTestPlane, tableSnapshot } from './local-mode.js';

/** Anonymous registration is counted per caller address and UTC day (policy `registrationQuotas.anonymousPerIpPerDay`). */

const LIMIT = 3;
let plane: LocalControlPlane;

beforeAll(async () => {
  const policy = JSON.parse(readFileSync('policy/policy.json', 'utf8')) as { registrationQuotas: { anonymousPerIpPerDay: number } };
  policy.registrationQuotas.anonymousPerIpPerDay = LIMIT;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-quota-')), 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  plane = await startTestPlane({ policyFile });
});
afterAll(async () => {
  await plane?.close();
});

/** POST /register from a chosen loopback address, so two callers can be told apart. */
function registerFrom(localAddress: string, body: unknown): Promise<{ status: number; retryAfter: string | undefined; json: Record<string, unknown> }> {
  const url = new URL('/register', plane.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] as string | undefined,
          json: JSON.parse(text) as Record<string, unknown>,
        }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const consumers = async () => (await tableSnapshot(plane)).filter((item) => (item as { sk: string }).sk === 'CONSUMER').length;

describe('anonymous registration quota (local mode over HTTP)', () => {
  it('accepts the quota, then answers 429 registration_quota_exceeded with Retry-After and writes no consumer', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await registerFrom('127.0.0.2', publicRequest())).status).toBe(201);
    const before = await consumers();

    const refused = await registerFrom('127.0.0.2', publicRequest());

    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({ error: 'registration_quota_exceeded', limit: LIMIT });
    expect(String(refused.json['error_description'])).toContain(`At most ${LIMIT} registrations`);
    const retryAfter = Number(refused.retryAfter);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    expect(await consumers()).toBe(before);
  });

  it('counts each address on its own', async () => {
    expect((await registerFrom('127.0.0.3', publicRequest())).status).toBe(201);
  });

  it('never lets concurrent registrations from one address overshoot the quota', async () => {
    const before = await consumers();
    const answers = await Promise.all(Array.from({ length: 8 }, () => registerFrom('127.0.0.4', publicRequest())));

    expect(answers.filter((a) => a.status === 201)).toHaveLength(LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(8 - LIMIT);
    expect(await consumers()).toBe(before + LIMIT);
  });

  it('does not count refused requests or registrations with a software statement', async () => {
    const bad = await registerFrom('127.0.0.5', publicRequest({ scope: 'payments:initiate', data_classes: ['payment'] }));
    expect(bad.status).toBe(403);
    for (let i = 0; i < LIMIT; i++) expect((await registerFrom('127.0.0.5', publicRequest())).status).toBe(201);

    // From 127.0.0.1, which registers anonymously below too: partners carry the bank's signed statement.
    for (let i = 0; i < LIMIT + 1; i++) expect((await registerPartner(plane, { scope: 'reference-data:read', data_classes: ['public'] })).status).toBe(201);
    expect((await postJson(`${plane.url}/register`, publicRequest())).status).toBe(201);
  });
});
