import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { publicRequest, registerPartner, startTestPlane } from './local-mode.js';
import { readOutbox, reviewLink } from './outbox.js';
import { submitDecision } from './review-flow.js';

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close();
  plane = undefined;
});

/** The round-`round` review link for `clientId` served by the running plane (not one from before a restart). */
async function currentLink(p: LocalControlPlane, clientId: string, round: number): Promise<string> {
  const find = () =>
    readOutbox(p.outboxDir)
      .filter((m) => m.text.includes(clientId) && m.subject.includes(`approval ${round} of`))
      .map(reviewLink)
      .find((l) => l.startsWith(`${p.url}/`));
  await expect.poll(find, { timeout: 5000 }).toBeTypeOf('string');
  return find()!;
}

describe('local mode restart', () => {
  it('resumes a pending review with fresh links and keeps the approvals already given', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    plane = await startTestPlane({ dataDir });
    const { clientId } = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'] });
    expect((await submitDecision(await currentLink(plane, clientId, 1), 'approve')).status).toBe(200);
    await currentLink(plane, clientId, 2);
    await plane.close();

    // Same data directory, new process state: the execution is gone, the request is not.
    plane = await startTestPlane({ dataDir });
    const link = await currentLink(plane, clientId, 2);
    expect((await submitDecision(link, 'approve')).status).toBe(200);
    await expect.poll(async () => (await plane!.services.consumers.getConsumer(clientId))?.status, { timeout: 5000 }).toBe('active');
    expect((await plane.services.consumers.getConsumer(clientId))?.approvals).toHaveLength(2);
  });

  it('resumes a pending change request (a reinstatement) after a restart, with fresh links', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    plane = await startTestPlane({ dataDir });
    const admin = (p: LocalControlPlane, path: string, body: unknown) =>
      fetch(`${p.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const reg = await fetch(`${plane.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(publicRequest()),
    });
    const clientId = String(((await reg.json()) as Record<string, unknown>)['client_id']);
    expect((await admin(plane, `/admin/consumers/${clientId}/suspend`, { reason: 'Incident under investigation' })).status).toBe(200);
    const asked = await admin(plane, `/admin/consumers/${clientId}/reinstate`, { reason: 'Incident closed' });
    const requestId = String(((await asked.json()) as { request: { request_id: string } }).request.request_id);
    await currentLink(plane, requestId, 1);
    await plane.close();

    plane = await startTestPlane({ dataDir });
    const link = await currentLink(plane, requestId, 1);
    expect((await submitDecision(link, 'approve')).status).toBe(200);
    await expect.poll(async () => (await plane!.services.consumers.getConsumer(clientId))?.status, { timeout: 5000 }).toBe('active');
    // Local transactions apply their items one at a time, so a read between two items sees the consumer active first.
    await expect.poll(async () => (await plane!.services.requests.getRequest(clientId, requestId))?.status, { timeout: 5000 }).toBe('approved');
  });

  it('removes at start-up a client secret whose consumer was never committed, and keeps the others', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    plane = await startTestPlane({ dataDir });
    const reg = await fetch(`${plane.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(publicRequest()),
    });
    const clientId = String(((await reg.json()) as Record<string, unknown>)['client_id']);
    // What a crash between the two writes of a registration leaves behind.
    await plane.services.clientSecrets.create({ clientId: 'gh_orphaned-by-a-crash', clientSecret: 'never handed out' }, 90);
    await plane.close();

    plane = await startTestPlane({ dataDir });
    expect(readdirSync(join(dataDir, 'client-secrets')).sort()).toEqual([`${clientId}.json`]);
  });
});
