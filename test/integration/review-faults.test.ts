import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Email } from '../../lambdas/core/ports.js';
import { recordingLog } from '../lambdas/fixtures.js';
import { STALLED_REVIEW_MS } from '../../lambdas/core/lifecycle/attention.js';
import { RegistryError } from '../../lambdas/core/registry/errors.js';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { publicRequest, registerPartner, startTestPlane } from './local-mode.js';
import { readOutbox, reviewLink } from './outbox.js';
import { awaitReviewEmail, reviewEmails, submitDecision } from './review-flow.js';

/**
 * A mail service that fails while the workflow asks for a review or reports its outcome (throttled, down, or the local
 * outbox unwritable): `down` decides which emails fail; every failed send is recorded with its review id.
 */
let plane: LocalControlPlane;
let down: (email: Email) => boolean = () => false;
const failed: Email[] = [];
const log = recordingLog();

beforeAll(async () => {
  plane = await startTestPlane({
    log,
    reviewRetryIntervalMs: 50,
    onEmail: (_file, email) => {
      if (!down(email)) return;
      failed.push(email);
      const error = new Error('Maximum sending rate exceeded.');
      error.name = 'TooManyRequestsException';
      throw error;
    },
  });
});
afterAll(async () => {
  await plane?.close();
});
afterEach(() => {
  down = () => false;
  failed.length = 0;
  log.error.mockClear();
});

const reviewIdOf = (email: Email) => /\/reviews\/([0-9a-f]{32})/.exec(email.text)?.[1];
const errorLines = (message: string) => log.error.mock.calls.filter(([m]) => m === message).map(([, extra]) => extra);

describe('local mode: the review workflow under a mail outage', () => {
  it('keeps a review waiting while no reviewer email can be sent, retries with fresh links, and goes on once mail works', async () => {
    down = (email) => email.subject.includes('Review needed');
    const { status, clientId } = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    expect(status).toBe(202);
    // Two whole attempts failed (each a round of its own): the review is retried, not ended.
    await expect.poll(() => new Set(failed.map(reviewIdOf)).size, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect((await plane.services.consumers.getConsumer(clientId))?.status).toBe('pending_review');
    expect(errorLines('reviewer email not sent')[0]).toMatchObject({ clientId, round: 1, error: 'TooManyRequestsException' });
    expect(JSON.stringify(errorLines('reviewer email not sent'))).not.toContain('/reviews/');

    down = () => false;
    // The outbox keeps the files of the failed sends too; the link to use is the one from a send that worked.
    const failedRounds = new Set(failed.map(reviewIdOf));
    const delivered = () =>
      reviewEmails(plane, clientId, 1).find(
        (m) => m.to.includes('alice.reviewer@bank.example') && !failedRounds.has(/\/reviews\/([0-9a-f]{32})/.exec(m.text)?.[1]),
      );
    await expect.poll(delivered, { timeout: 10_000 }).toBeDefined();
    expect((await submitDecision(reviewLink(delivered()!), 'approve', 'Fine')).status).toBe(200);
    await expect.poll(async () => (await plane.services.consumers.getConsumer(clientId))?.status, { timeout: 10_000 }).toBe('active');
    const types = (await plane.services.consumers.listAudit(clientId)).map((e) => e.type);
    expect(types.filter((t) => t === 'consumer.review_requested').length).toBeGreaterThanOrEqual(3);
    expect(types.filter((t) => t === 'consumer.review_approved')).toHaveLength(1);
    expect(types).not.toContain('consumer.review_failed');
  });

  it('goes on with the reviewers who were emailed when only one email fails, and logs the one that did not go out', async () => {
    let once = true;
    down = (email) => email.subject.includes('Review needed') && email.to.includes('alice.reviewer@bank.example') && once && !(once = false);
    const { clientId } = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    await expect.poll(() => failed.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => reviewEmails(plane, clientId, 1).some((m) => !m.to.includes('alice.reviewer@bank.example')), { timeout: 10_000 }).toBe(true);
    const mail = reviewEmails(plane, clientId, 1).find((m) => !m.to.includes('alice.reviewer@bank.example'))!;
    expect((await submitDecision(reviewLink(mail), 'approve', 'Fine')).status).toBe(200);
    await expect.poll(async () => (await plane.services.consumers.getConsumer(clientId))?.status, { timeout: 10_000 }).toBe('active');
    // One round only: the failed email did not make the workflow start over.
    const types = (await plane.services.consumers.listAudit(clientId)).map((e) => e.type);
    expect(types.filter((t) => t === 'consumer.review_requested')).toHaveLength(1);
    expect(errorLines('reviewer email not sent')).toHaveLength(1);
  });

  it('retries the requester’s outcome email, logging each failure with the request’s ids, instead of dropping it', async () => {
    let failures = 2;
    down = (email) => email.subject.includes('approved') && failures-- > 0;
    const { clientId } = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    const mail = await awaitReviewEmail(plane, 'alice.reviewer@bank.example', clientId, 1);
    expect((await submitDecision(reviewLink(mail), 'approve', 'Fine')).status).toBe(200);
    await expect
      .poll(
        () =>
          readOutbox(plane.outboxDir).filter((m) => m.to.includes('dev@fintech.example') && m.subject.includes('approved') && m.text.includes(clientId)).length,
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(3);
    expect(failed).toHaveLength(2);
    expect(errorLines('outcome email not sent')).toEqual([
      expect.objectContaining({ clientId, error: 'TooManyRequestsException' }),
      expect.objectContaining({ clientId }),
    ]);
  });
});

describe('local mode: a registration whose review workflow never started', () => {
  it('is found by the sweep, which starts the workflow, so the request is reviewed instead of waiting forever', async () => {
    const START = Date.now();
    let offset = 0;
    const stalledPlane = await startTestPlane({ clock: { now: () => new Date(START + offset) } });
    try {
      // Both the workflow start and the write that would close the request as failed fail: the double fault.
      const start = vi
        .spyOn(stalledPlane.workflow, 'startReview')
        .mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      const update = vi
        .spyOn(stalledPlane.services.consumers, 'updateConsumer')
        .mockRejectedValueOnce(new RegistryError('unavailable', 'The registry could not complete the write.'));
      const reg = await registerPartner(stalledPlane, { scope: 'accounts:read', data_classes: ['confidential'] });
      expect(reg.status).toBe(503);
      expect(start).toHaveBeenCalledTimes(1);
      expect(update).toHaveBeenCalledTimes(1);
      // The 503 names no client id; the stored request is the plane's only consumer.
      const [stalled, ...others] = (await stalledPlane.services.consumers.listConsumers(100)).consumers;
      expect(others).toEqual([]);
      expect(stalled).toMatchObject({ status: 'pending_review' });
      const clientId = stalled!.clientId;
      expect(stalled!.reviewExecution).toBeUndefined();
      expect(Date.parse(stalled!.attentionAt!)).toBe(Date.parse(stalled!.createdAt) + STALLED_REVIEW_MS);

      expect((await stalledPlane.sweep()).reviewsResumed).toBe(0); // not yet: registration may still be recording it
      offset = STALLED_REVIEW_MS + 1000;
      const result = await stalledPlane.sweep();
      expect(result.reviewsResumed).toBe(1);
      const resumed = await stalledPlane.services.consumers.getConsumer(clientId);
      expect(resumed!.reviewExecution).toBe(`review-${clientId}`);
      expect(resumed!.attentionAt).toBeUndefined();
      // The resumed workflow may already have opened its first round: the resumption is recorded, not necessarily last.
      expect(await stalledPlane.services.consumers.listAudit(clientId)).toContainEqual(
        expect.objectContaining({ type: 'consumer.review_started', data: expect.objectContaining({ resumed: true }) }),
      );

      const mail = await awaitReviewEmail(stalledPlane, 'alice.reviewer@bank.example', clientId, 1);
      expect((await submitDecision(reviewLink(mail), 'approve', 'Fine')).status).toBe(200);
      await expect.poll(async () => (await stalledPlane.services.consumers.getConsumer(clientId))?.status, { timeout: 10_000 }).toBe('active');
      expect((await stalledPlane.sweep()).reviewsResumed).toBe(0);
    } finally {
      await stalledPlane.close();
    }
  });
});

describe('local mode: a change request whose review workflow never started', () => {
  /** A plane on a test clock (`advance` moves it), with admin POSTs and low-risk registrations over HTTP. */
  async function clockedPlane() {
    const START = Date.now();
    let offset = 0;
    const p = await startTestPlane({ clock: { now: () => new Date(START + offset) } });
    return {
      p,
      advance: (ms: number) => (offset = ms),
      admin: (path: string, body: unknown) =>
        fetch(`${p.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${p.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      register: async () =>
        String(
          (
            (await (
              await fetch(`${p.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(publicRequest()) })
            ).json()) as Record<string, unknown>
          )['client_id'],
        ),
    };
  }

  it('no longer blocks a new request once it has waited past the stall limit: it is closed as failed', async () => {
    const { p, advance, admin, register } = await clockedPlane();
    try {
      const clientId = await register();
      expect((await admin(`/admin/consumers/${clientId}/suspend`, { reason: 'Incident under investigation' })).status).toBe(200);

      const { consumers, requests } = p.services;
      const original = consumers.updateConsumer.bind(consumers);
      vi.spyOn(p.workflow, 'startReview').mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      vi.spyOn(consumers, 'updateConsumer')
        .mockImplementationOnce(original) // the request is stored
        .mockRejectedValueOnce(new RegistryError('unavailable', 'The registry could not complete the write.')); // closing it fails
      expect((await admin(`/admin/consumers/${clientId}/reinstate`, { reason: 'Incident closed' })).status).toBe(503);
      const [stuck] = await requests.listRequests(clientId);
      expect(stuck).toMatchObject({ status: 'pending_review' });
      expect(stuck!.reviewExecution).toBeUndefined();

      // Right away it still counts as pending (its workflow may yet be recorded)...
      expect((await admin(`/admin/consumers/${clientId}/reinstate`, { reason: 'Incident closed' })).status).toBe(409);
      // ...after the stall limit it is closed as failed, with an audit event, and the new request goes ahead.
      advance(STALLED_REVIEW_MS + 1000);
      const again = await admin(`/admin/consumers/${clientId}/reinstate`, { reason: 'Incident closed' });
      expect(again.status).toBe(202);
      expect(await requests.getRequest(clientId, stuck!.requestId)).toMatchObject({ status: 'failed', outcomeReason: 'The review workflow never started.' });
      expect((await consumers.listAudit(clientId)).map((e) => e.type)).toContain('request.failed');
    } finally {
      await p.close();
    }
  });

  it('is closed as failed by the sweep once past the stall limit, without anyone asking again; a request that started is only checked', async () => {
    const { p, advance, admin, register } = await clockedPlane();
    try {
      const { consumers, requests } = p.services;
      const stuckId = await register();
      const fineId = await register();
      for (const id of [stuckId, fineId]) expect((await admin(`/admin/consumers/${id}/suspend`, { reason: 'Incident under investigation' })).status).toBe(200);

      // The double fault on one consumer's reinstatement; the other's starts normally.
      const original = consumers.updateConsumer.bind(consumers);
      vi.spyOn(p.workflow, 'startReview').mockRejectedValueOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
      vi.spyOn(consumers, 'updateConsumer')
        .mockImplementationOnce(original)
        .mockRejectedValueOnce(new RegistryError('unavailable', 'The registry could not complete the write.'));
      expect((await admin(`/admin/consumers/${stuckId}/reinstate`, { reason: 'Incident closed' })).status).toBe(503);
      vi.mocked(consumers.updateConsumer).mockRestore();
      expect((await admin(`/admin/consumers/${fineId}/reinstate`, { reason: 'Incident closed' })).status).toBe(202);
      const [stuck] = await requests.listRequests(stuckId);
      expect(stuck).toMatchObject({ status: 'pending_review' });
      for (const id of [stuckId, fineId]) {
        const consumer = await consumers.getConsumer(id);
        expect(consumer!.requestCheckAt).toBeDefined();
        expect(Date.parse(consumer!.attentionAt!)).toBe(Date.parse(consumer!.requestCheckAt!) + STALLED_REVIEW_MS);
      }

      // Before the limit its workflow may still be recorded: nothing is closed.
      expect((await p.sweep()).requestsFailed).toBe(0);
      expect(await requests.getRequest(stuckId, stuck!.requestId)).toMatchObject({ status: 'pending_review' });

      // The other request's workflow has opened its review round (so the sweep's read of that consumer is its last change).
      await expect.poll(async () => (await requests.listRequests(fineId))[0]?.openReviewId, { timeout: 10_000 }).toBeDefined();
      advance(STALLED_REVIEW_MS + 1000);
      const result = await p.sweep();
      expect(result.requestsFailed).toBe(1);
      expect(await requests.getRequest(stuckId, stuck!.requestId)).toMatchObject({ status: 'failed', outcomeReason: 'The review workflow never started.' });
      expect((await consumers.listAudit(stuckId)).at(-1)).toMatchObject({ type: 'request.failed', data: { requestId: stuck!.requestId } });
      // The other consumer's request has its workflow: the check only moves on, with no audit event.
      const [fine] = await requests.listRequests(fineId);
      expect(fine).toMatchObject({ status: 'pending_review' });
      expect(fine!.reviewExecution).toBeDefined();
      expect((await consumers.listAudit(fineId)).filter((e) => e.actor.id === 'lifecycle-sweep')).toEqual([]);
      for (const id of [stuckId, fineId]) {
        const consumer = await consumers.getConsumer(id);
        expect(consumer!.requestCheckAt).toBeUndefined();
        expect(consumer!.status).toBe('suspended');
      }
      // Nothing is left for the next sweep to look at for them.
      const again = await p.sweep();
      expect(again).toMatchObject({ requestsFailed: 0, rearmed: 0 });
    } finally {
      await p.close();
    }
  });
});
