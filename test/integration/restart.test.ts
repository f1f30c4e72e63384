import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

  it('activates after a restart when the last approval was recorded but never reached the workflow, without asking for one more', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    plane = await startTestPlane({ dataDir });
    const { clientId } = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'] });
    expect((await submitDecision(await currentLink(plane, clientId, 1), 'approve')).status).toBe(200);
    await currentLink(plane, clientId, 2);
    const consumer = (await plane.services.consumers.getConsumer(clientId))!;
    expect(consumer.requirements.approvals).toBe(2);
    // What a crash between recording the second approval and delivering it to the workflow leaves in the table.
    const scan = await plane.documentClient.send(
      new ScanCommand({
        TableName: plane.tableName,
        FilterExpression: 'clientId = :c AND #k = :k',
        ExpressionAttributeNames: { '#k': 'kind' },
        ExpressionAttributeValues: { ':c': clientId, ':k': 'consumer' },
      }),
    );
    const item = scan.Items![0]!;
    await plane.documentClient.send(
      new UpdateCommand({
        TableName: plane.tableName,
        Key: { pk: item['pk'], sk: item['sk'] },
        UpdateExpression: 'SET approvals = list_append(approvals, :a)',
        ExpressionAttributeValues: { ':a': [{ reviewer: 'second.reviewer@bank.example', round: 2, at: new Date().toISOString() }] },
      }),
    );
    await plane.close();

    plane = await startTestPlane({ dataDir });
    await expect.poll(async () => (await plane!.services.consumers.getConsumer(clientId))?.status, { timeout: 5000 }).toBe('active');
    const askedAgain = readOutbox(plane.outboxDir).filter((m) => m.text.includes(clientId) && /approval 3 of/.test(m.subject));
    expect(askedAgain).toEqual([]);
  });

  it('keeps the original deadline of a review across a restart instead of granting a fresh SLA', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };
    plane = await startTestPlane({ dataDir, clock });
    const { clientId } = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'] });
    await currentLink(plane, clientId, 1);
    const first = (await plane.services.consumers.getConsumer(clientId))!;
    const deadline = (await plane.services.reviews.getReview(first.openReviewId!))!.deadline;
    await plane.close();

    offset = 6 * 3_600_000; // restarted six hours later
    plane = await startTestPlane({ dataDir, clock });
    await currentLink(plane, clientId, 1);
    await expect.poll(async () => (await plane!.services.consumers.getConsumer(clientId))?.openReviewId, { timeout: 5000 }).not.toBe(first.openReviewId);
    const resumed = (await plane.services.consumers.getConsumer(clientId))!;
    expect((await plane.services.reviews.getReview(resumed.openReviewId!))!.deadline).toBe(deadline);
  });

  it('delivers after a restart a consumer notice that the previous process accepted but never delivered', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    let mailDown = true;
    const onEmail = (_file: string, email: { subject: string }) => {
      if (mailDown && email.subject.startsWith('[Gatehouse] Access suspended'))
        throw Object.assign(new Error('Outbox unavailable'), { name: 'ServiceUnavailable' });
    };
    // Retries far apart: the notice is still waiting for its next attempt when the plane stops.
    plane = await startTestPlane({ dataDir, onEmail, noticeRetryIntervalMs: 60_000 });
    const reg = await fetch(`${plane.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(publicRequest()),
    });
    const clientId = String(((await reg.json()) as Record<string, unknown>)['client_id']);
    const suspended = await fetch(`${plane.url}/admin/consumers/${clientId}/suspend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'Incident under investigation' }),
    });
    expect(suspended.status).toBe(200);
    const pending = () => readdirSync(join(dataDir, 'notices')).filter((f) => f.endsWith('.json'));
    expect(pending()).toHaveLength(1);
    await plane.close(200);
    plane = undefined;
    expect(pending()).toHaveLength(1);

    mailDown = false;
    plane = await startTestPlane({ dataDir, onEmail });
    await plane.notices.drain();
    const delivered = readOutbox(plane.outboxDir).filter((m) => m.subject.startsWith('[Gatehouse] Access suspended'));
    // The failed attempt's file is in the outbox too (written before the outage was reported); the delivery is the last.
    expect(delivered.length).toBeGreaterThanOrEqual(2);
    expect(pending()).toEqual([]);
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
