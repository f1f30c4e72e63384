import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { readOutbox } from './outbox.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

const DAY = 86_400_000;
const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ clock, consumerCacheMs: 0 });
});
afterAll(async () => {
  await plane?.close();
});

interface Registered {
  clientId: string;
  secret: string;
  registrationToken: string;
}

async function register(expiresInDays: number, contact: string): Promise<Registered> {
  const reg = await postJson(`${plane.url}/register`, publicRequest({ contacts: [contact], expires_at: new Date(START + expiresInDays * DAY).toISOString() }));
  expect(reg.status).toBe(201);
  return {
    clientId: String(reg.json['client_id']),
    secret: String(reg.json['client_secret']),
    registrationToken: String(reg.json['registration_access_token']),
  };
}

async function token(c: Registered): Promise<number> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  await res.arrayBuffer();
  return res.status;
}

/** The emails to a contact, once the lifecycle notices under way have been delivered (they go through the notice workflow). */
const mailsTo = async (contact: string) => {
  await plane.notices.drain();
  return readOutbox(plane.outboxDir).filter((m) => m.to.includes(contact));
};
const auditTypes = async (clientId: string) => (await plane.services.consumers.listAudit(clientId)).map((e) => e.type);

describe('local mode: lifecycle sweeps, clock-driven', () => {
  it('warns once before a grant ends, then revokes it with its effects', async () => {
    const expiring = await register(30, 'expiring@fintech.example');
    expect(await token(expiring)).toBe(200);

    offset = 10 * DAY; // 20 days before the end: not yet within the 14-day warning
    expect((await plane.sweep()).warned).toBe(0);
    offset = 17 * DAY;
    await plane.sweep();
    await plane.sweep(); // a second run must not warn again
    const warnings = (await mailsTo('expiring@fintech.example')).filter((m) => m.subject.includes('action needed'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.text).toContain('grant ends on');
    expect((await auditTypes(expiring.clientId)).filter((t) => t === 'consumer.warned')).toHaveLength(1);
    expect(await token(expiring)).toBe(200);

    offset = 31 * DAY;
    const result = await plane.sweep();
    expect(result.revoked).toBeGreaterThanOrEqual(1);
    expect(await token(expiring)).toBe(401);
    const consumer = await plane.services.consumers.getConsumer(expiring.clientId);
    expect(consumer).toMatchObject({ status: 'revoked' });
    expect(consumer!.attentionAt).toBeUndefined(); // out of the index: later sweeps never read it again
    expect(plane.services.clientSecrets.staged(expiring.clientId)).toBeDefined();
    expect(await plane.services.clientSecrets.staged(expiring.clientId).read({ stage: 'AWSCURRENT' })).toBeUndefined();
    const audit = await plane.services.consumers.listAudit(expiring.clientId);
    expect(audit.at(-1)).toMatchObject({
      type: 'consumer.revoked',
      actor: { kind: 'system', id: 'lifecycle-sweep' },
      // The trail keeps what the consumer actually used when its access ended.
      data: { reason: 'grant_expired', scopeUsage: { used: ['reference-data:read'], unused: [] } },
    });
    expect((await mailsTo('expiring@fintech.example')).some((m) => m.subject.includes('Access revoked'))).toBe(true);
    // The registration access token ended with the grant: nothing more reads with it.
    const read = await fetch(`${plane.url}/register/${expiring.clientId}`, { headers: { authorization: `Bearer ${expiring.registrationToken}` } });
    expect(read.status).toBe(401);
    expect(read.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse", error="invalid_token"');
    expect(await read.text()).not.toContain('client_secret');
  });

  it('suspends a dormant consumer after warning it, and keeps a used one active', async () => {
    offset = 40 * DAY;
    const idle = await register(340, 'idle@fintech.example');
    const busy = await register(340, 'busy@fintech.example');

    offset = 40 * DAY + 77 * DAY; // 13 days before the 90-day dormancy cutoff
    expect(await token(busy)).toBe(200);
    await plane.sweep();
    expect((await mailsTo('idle@fintech.example')).filter((m) => m.subject.includes('action needed'))).toHaveLength(1);
    expect((await mailsTo('busy@fintech.example')).filter((m) => m.subject.includes('action needed'))).toHaveLength(0);

    offset = 40 * DAY + 91 * DAY;
    await plane.sweep();
    expect((await plane.services.consumers.getConsumer(idle.clientId))!.status).toBe('suspended');
    expect((await plane.services.consumers.getConsumer(busy.clientId))!.status).toBe('active');
    expect(await token(idle)).toBe(401);
    expect(await token(busy)).toBe(200);
    expect((await mailsTo('idle@fintech.example')).some((m) => m.subject.includes('suspended'))).toBe(true);
    expect((await plane.services.consumers.listAudit(idle.clientId)).at(-1)).toMatchObject({ type: 'consumer.suspended', data: { reason: 'dormant' } });
  });

  it('two sweeps at once transition each consumer exactly once, with one audit event and one email each', async () => {
    offset = 200 * DAY;
    const batch = await Promise.all(Array.from({ length: 6 }, (_, i) => register(200 + 5, `batch${i}@fintech.example`)));
    offset = 206 * DAY; // every grant in the batch has ended
    const [a, b] = await Promise.all([plane.sweep(), plane.sweep()]);
    expect(a.failed + b.failed).toBe(0);
    for (const [i, c] of batch.entries()) {
      const types = await auditTypes(c.clientId);
      expect(types.filter((t) => t === 'consumer.revoked')).toHaveLength(1);
      expect((await mailsTo(`batch${i}@fintech.example`)).filter((m) => m.subject.includes('Access revoked'))).toHaveLength(1);
    }
    // Nothing is due any more: the next sweep reads no consumer.
    expect((await plane.sweep()).read).toBe(0);
  });
});
