import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { readOutbox } from './outbox.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';

const DAY = 86_400_000;
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ clock });
});
afterAll(async () => {
  await plane?.close();
});

async function tokenStatus(clientId: string, secret: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** RFC 7592 read; a read that hands out the secret replaces the registration access token, so the next read uses the new one. */
const registrationTokens = new Map<string, string>();
async function readRegistration(clientId: string, registrationToken: string): Promise<Record<string, unknown>> {
  const token = registrationTokens.get(clientId) ?? registrationToken;
  const res = await fetch(`${plane.url}/register/${clientId}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as Record<string, unknown>;
  registrationTokens.set(clientId, String(body['registration_access_token']));
  return body;
}

describe('local mode: client-secret rotation with a grace window', () => {
  it('rotates on the policy period, accepts both secrets during grace, refuses the old one after it, and delivers the new one by RFC 7592 read', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest({ expires_at: new Date(Date.now() + 300 * DAY).toISOString() }));
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);
    const oldSecret = String(reg.json['client_secret']);
    const registrationToken = String(reg.json['registration_access_token']);
    expect((await tokenStatus(clientId, oldSecret)).status).toBe(200);
    // Until it rotates, the read hands back the secret issued at registration.
    expect((await readRegistration(clientId, registrationToken))['client_secret']).toBe(oldSecret);

    // Not due before the low-risk period (90 days) ends.
    offset = 89 * DAY;
    expect(await plane.rotateClientSecretsIfDue()).toEqual([]);
    offset = 91 * DAY;
    expect(await plane.rotateClientSecretsIfDue()).toEqual([clientId]);
    expect(await plane.rotateClientSecretsIfDue()).toEqual([]); // done once, not on every check

    const newSecret = String((await readRegistration(clientId, registrationToken))['client_secret']);
    expect(newSecret).not.toBe(oldSecret);
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Grace window: both authenticate.
    expect((await tokenStatus(clientId, oldSecret)).status).toBe(200);
    expect((await tokenStatus(clientId, newSecret)).status).toBe(200);

    // Another rotation inside the grace window would cut it short: refused, and both secrets keep working.
    await expect(plane.rotateClientSecret(clientId)).rejects.toMatchObject({ code: 'rotation_too_soon' });
    expect((await tokenStatus(clientId, oldSecret)).status).toBe(200);
    expect((await readRegistration(clientId, registrationToken))['client_secret']).toBe(newSecret);

    // The notice (through the notice workflow) tells the contacts where to fetch it and until when the old one works; it
    // never carries a secret.
    await plane.notices.drain();
    const notice = readOutbox(plane.outboxDir).find((m) => m.subject.includes('Client secret rotated'));
    expect(notice).toBeDefined();
    expect(notice!.to).toEqual(['dev@fintech.example']);
    expect(notice!.text).toContain(`GET ${plane.url}/register/${clientId}`);
    expect(notice!.text).toMatch(/keeps working until \d{4}-\d\d-\d\dT/);
    for (const secret of [oldSecret, newSecret]) {
      expect(JSON.stringify(readOutbox(plane.outboxDir))).not.toContain(secret);
      expect(JSON.stringify(await tableSnapshot(plane))).not.toContain(secret);
    }

    // After the grace window (7 days), the old secret is refused; the new one works.
    offset = 91 * DAY + 7 * DAY + 60_000;
    const refused = await tokenStatus(clientId, oldSecret);
    expect(refused.status).toBe(401);
    expect(refused.body['error']).toBe('invalid_client');
    expect((await tokenStatus(clientId, newSecret)).status).toBe(200);

    // Every rotation is in the consumer's audit trail, without the secret.
    const audit = await plane.services.consumers.listAudit(clientId);
    expect(audit.map((e) => e.type).filter((t) => t.startsWith('credentials.') && t !== 'credentials.registration_token_rotated')).toEqual([
      'credentials.issued',
      'credentials.rotation_started',
      'credentials.rotated',
    ]);
    const rotated = audit.find((e) => e.type === 'credentials.rotated')!;
    expect(rotated.actor).toEqual({ kind: 'system', id: 'client-secret-rotation' });
    expect(rotated.data).toMatchObject({ kind: 'client_secret', previousValidUntil: expect.any(String) });

    // Once the grace window is over, the next rotation is allowed (the schedule would do it at 90 days).
    await plane.rotateClientSecret(clientId);
    const third = String((await readRegistration(clientId, registrationToken))['client_secret']);
    expect(third).not.toBe(newSecret);
    expect((await tokenStatus(clientId, newSecret)).status).toBe(200);
    expect((await tokenStatus(clientId, third)).status).toBe(200);
    expect((await tokenStatus(clientId, oldSecret)).status).toBe(401);
  });
});

describe('local mode: rotation after a reported compromise', () => {
  it('ends the old secret, the leaked registration access token and the tokens already issued at once; the next secret works', async () => {
    let ahead = 0;
    const fresh = await startTestPlane({ consumerCacheMs: 0, clock: { now: () => new Date(Date.now() + ahead) } });
    try {
      const reg = await postJson(`${fresh.url}/register`, publicRequest());
      expect(reg.status).toBe(201);
      const clientId = String(reg.json['client_id']);
      const leakedSecret = String(reg.json['client_secret']);
      const leakedToken = String(reg.json['registration_access_token']);
      const token = (secret: string) =>
        fetch(`${fresh.url}/oauth2/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
      const issued = await token(leakedSecret);
      expect(issued.status).toBe(200);
      const leakedAccessToken = String(((await issued.json()) as Record<string, unknown>)['access_token']);

      const rotate = await postJson(
        `${fresh.url}/admin/consumers/${clientId}/rotate-secret`,
        { reason: 'registration response pasted in a public issue', compromised: true },
        { authorization: `Bearer ${fresh.adminToken}` },
      );
      expect(rotate.status).toBe(202);
      expect(rotate.json).toMatchObject({ compromised: true, registration_access_token: expect.any(String) });

      // No grace: the old secret is refused at once.
      const refused = await token(leakedSecret);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as Record<string, unknown>)['error']).toBe('invalid_client');

      // The leaked registration response cannot fetch the next secret.
      const leakedRead = await fetch(`${fresh.url}/register/${clientId}`, { headers: { authorization: `Bearer ${leakedToken}` } });
      expect(leakedRead.status).toBe(401);
      expect(leakedRead.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="invalid_token"');
      expect(await leakedRead.text()).not.toContain('client_secret"');

      // The owner, given the new registration access token, fetches the new secret, which works.
      const ownerRead = await fetch(`${fresh.url}/register/${clientId}`, {
        headers: { authorization: `Bearer ${String(rotate.json['registration_access_token'])}` },
      });
      expect(ownerRead.status).toBe(200);
      const newSecret = String(((await ownerRead.json()) as Record<string, unknown>)['client_secret']);
      expect(newSecret).not.toBe(leakedSecret);

      // Resource servers refuse the client's tokens issued through the report's second, the leaked one included...
      const list = decodeJwt(await (await fetch(`${fresh.url}/oauth2/revocations`)).text()) as { revoked_clients: Array<{ client_id: string; since: number }> };
      const since = list.revoked_clients.find((c) => c.client_id === clientId)!.since;
      expect(decodeJwt(leakedAccessToken).iat).toBeLessThanOrEqual(since);
      // ...so no token is issued until that second has passed, and the next one is not caught by it.
      const waiting = await token(newSecret);
      expect(waiting.status).toBe(503);
      expect(((await waiting.json()) as Record<string, unknown>)['error']).toBe('temporarily_unavailable');
      ahead += Number(waiting.headers.get('retry-after')) * 1000;
      const next = await token(newSecret);
      expect(next.status).toBe(200);
      expect(decodeJwt(String(((await next.json()) as Record<string, unknown>)['access_token'])).iat).toBeGreaterThan(since);
      expect((await token(leakedSecret)).status).toBe(401);

      const audit = await fresh.services.consumers.listAudit(clientId);
      expect(audit.find((e) => e.type === 'credentials.rotation_requested')).toMatchObject({
        actor: { kind: 'operator', person: 'operator@bank.example' },
        data: { compromised: true, registrationTokenRotated: true },
      });
      expect((await fresh.services.consumers.getConsumer(clientId))?.previousSecretHash).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});
