import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { Consumer } from '../../lambdas/core/consumer/consumer.js';
import type { PolicyDocument } from '../../lambdas/core/policy/schema.js';
import { readOutbox, reviewLink, type OutboxMail } from './outbox.js';
import { registerPartner, startTestPlane } from './local-mode.js';
import { approveByEmail, submitDecision } from './review-flow.js';

/**
 * How bank reviewers end a high-risk recertification, over HTTP against local mode, driven by the plane's clock: a denial
 * suspends the consumer and tells its contacts why; a review that runs out gives the owner a new link and a new window
 * instead of a suspension. Review tasks time out after a few seconds so an expiry can be watched; the policy recertifies
 * every 20 days and keeps consumers from going dormant during the test's months.
 */
const ALICE = 'alice.reviewer@bank.example';
const BOB = 'bob.reviewer@bank.example';
const CAROL = 'carol.reviewer@bank.example';
const DAY = 86_400_000;
const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
let plane: LocalControlPlane;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-recert-review-'));
  const policy = JSON.parse(readFileSync(new URL('../../policy/policy.json', import.meta.url), 'utf8')) as PolicyDocument;
  policy.lifecycle.recertificationDays = { low: 20, medium: 20, high: 20 };
  policy.lifecycle.recertificationGraceDays = 14;
  for (const risk of ['low', 'medium', 'high'] as const) policy.risks[risk].dormancyDays = 60;
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  plane = await startTestPlane({
    clock,
    consumerCacheMs: 0,
    policyFile: join(dir, 'policy.json'),
    reviewers: { default: [ALICE, BOB, CAROL] },
    reviewTimeoutSeconds: 5,
  });
});
afterAll(async () => {
  await plane?.close();
  rmSync(dir, { recursive: true, force: true });
});

const consumer = async (clientId: string): Promise<Consumer> => (await plane.services.consumers.getConsumer(clientId))!;

/** A high-risk partner consumer, approved by two reviewers from their emails. */
async function activeHighRisk(contact: string): Promise<string> {
  // Within high risk's 90-day grant on the plane's clock.
  const request = {
    scope: 'payments:initiate',
    data_classes: ['payment'],
    contacts: [contact],
    expires_at: new Date(clock.now().getTime() + 80 * DAY).toISOString(),
  };
  const reg = await registerPartner(plane, request);
  expect(reg.status, JSON.stringify(reg.json)).toBe(202);
  await approveByEmail(plane, reg.clientId, [ALICE, BOB]);
  await expect.poll(async () => (await consumer(reg.clientId)).status, { timeout: 5000 }).toBe('active');
  return reg.clientId;
}

const mails = async (): Promise<OutboxMail[]> => {
  await plane.notices.drain();
  return readOutbox(plane.outboxDir);
};
const mailsTo = async (contact: string, subject: string) => (await mails()).filter((m) => m.to.includes(contact) && m.subject.includes(subject));

const attestationLink = (mail: OutboxMail): string => {
  const m = /(http:\/\/\S+\/recertifications\/\S+)/.exec(mail.text);
  if (!m) throw new Error(`no attestation link in ${mail.subject}`);
  return m[1]!;
};

/** Confirms from an attestation link as the page's form does (its CSRF cookie and hidden fields). */
async function confirm(link: string): Promise<{ status: number; html: string }> {
  const page = await fetch(link);
  const html = await page.text();
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(t|csrf)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  if (page.status !== 200) return { status: page.status, html };
  const url = new URL(link);
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.headers.get('set-cookie')?.split(';')[0] ?? '' },
    body: new URLSearchParams({ t: fields['t'] ?? '', csrf: fields['csrf'] ?? '', action: 'confirm' }),
  });
  return { status: res.status, html: await res.text() };
}

/** The first email to arrive after `seen` that `match` accepts. */
async function newMail(seen: ReadonlySet<string>, match: (m: OutboxMail) => boolean): Promise<OutboxMail> {
  const fresh = () => readOutbox(plane.outboxDir).filter((m) => !seen.has(m.file) && match(m));
  await expect.poll(() => fresh().length, { timeout: 5000 }).toBeGreaterThan(0);
  return fresh()[0]!;
}

/** The first review email about consumer `clientId` to arrive after `seen`. */
const recertificationReviewMail = (seen: ReadonlySet<string>, clientId: string) =>
  newMail(seen, (m) => m.subject.includes('Review needed') && m.text.includes(clientId));

const revokedClients = async () =>
  (decodeJwt(await (await fetch(`${plane.url}/oauth2/revocations`)).text()) as { revoked_clients: Array<Record<string, unknown>> }).revoked_clients;

describe('local mode: bank reviewers end a high-risk recertification', () => {
  let denied: string;
  let slow: string;
  let dueAt: number;

  it('sends both high-risk consumers attestation links when they fall due', async () => {
    denied = await activeHighRisk('owner-deny@fintech.example');
    slow = await activeHighRisk('owner-slow@fintech.example');
    dueAt = Date.parse((await consumer(slow)).recertification!.dueAt);
    offset = dueAt - START + 60_000;
    expect((await plane.sweep()).recertificationsDue).toBe(2);
  });

  it('suspends at once a consumer whose attestation reviewers deny, lists it as suspended and tells its contacts why', async () => {
    const link = attestationLink((await mailsTo('owner-deny@fintech.example', 'confirm its access'))[0]!);
    const seen = new Set((await mails()).map((m) => m.file));
    const attested = await confirm(link);
    expect(attested.status, attested.html).toBe(200);
    const requestId = (await consumer(denied)).recertification!.pending!.requestId;

    const review = await recertificationReviewMail(seen, denied);
    expect((await submitDecision(reviewLink(review), 'deny', 'The payment contract ended in March')).status).toBe(200);

    await expect.poll(async () => (await consumer(denied)).status, { timeout: 5000 }).toBe('suspended');
    const after = await consumer(denied);
    expect(after.recertification?.pending).toBeUndefined();
    expect(after.recertification?.deniedSuspendedAt).toBeDefined();
    const audit = await plane.services.consumers.listAudit(denied);
    expect(audit.map((e) => e.type).slice(-2)).toEqual(['request.denied', 'consumer.suspended']);
    expect(audit.at(-1)).toMatchObject({
      actor: { kind: 'system', id: 'review-workflow' },
      data: { reason: 'recertification_denied', requestId, detail: expect.stringContaining('The payment contract ended in March') },
    });
    expect((await plane.services.requests.getRequest(denied, requestId))?.status).toBe('denied');
    expect((await revokedClients()).find((c) => c['client_id'] === denied)).toMatchObject({ status: 'suspended' });

    await expect.poll(async () => (await mailsTo('owner-deny@fintech.example', 'recertification denied')).length, { timeout: 5000 }).toBe(1);
    const notice = (await mailsTo('owner-deny@fintech.example', 'recertification denied'))[0]!;
    expect(notice.text).toContain("declined by the bank's reviewers");
    expect(notice.text).toContain('Reason: The payment contract ended in March');
    expect(notice.text).toContain('suspended (recertification_denied)');
    expect(plane.metrics.total('RecertificationOutcomes', { outcome: 'review_denied' })).toBe(1);
  });

  it('does not suspend a consumer whose review runs past the grace period, and gives its owner a new link that works once the review expires', async () => {
    const first = attestationLink((await mailsTo('owner-slow@fintech.example', 'confirm its access'))[0]!);
    // The owner attests late in the grace period; the reviewers' 72-hour SLA then runs past its end.
    offset = dueAt - START + 13 * DAY;
    const seen = new Set((await mails()).map((m) => m.file));
    expect((await confirm(first)).status).toBe(200);
    const requestId = (await consumer(slow)).recertification!.pending!.requestId;
    await recertificationReviewMail(seen, slow);

    offset = dueAt - START + 15 * DAY; // past the grace period, within the review's SLA
    expect((await plane.sweep()).suspended).toBe(0);
    expect((await consumer(slow)).status).toBe('active');

    // Nobody decides: the review task times out and the request expires.
    await expect.poll(async () => (await plane.services.requests.getRequest(slow, requestId))?.status, { timeout: 15_000, interval: 200 }).toBe('expired');
    const reopened = (await consumer(slow)).recertification!;
    expect(reopened.pending).toBeUndefined();
    expect(reopened.reopened).toEqual({ count: 1, at: clock.now().toISOString(), until: new Date(clock.now().getTime() + 14 * DAY).toISOString(), requestId });
    expect((await plane.services.consumers.listAudit(slow)).at(-1)).toMatchObject({
      type: 'request.expired',
      data: { requestId, attestAgainBy: reopened.reopened!.until },
    });
    expect(plane.metrics.total('RecertificationOutcomes', { outcome: 'review_expired' })).toBe(1);
    await expect.poll(async () => (await mailsTo('owner-slow@fintech.example', 'recertification expired')).length, { timeout: 5000 }).toBe(1);
    expect((await mailsTo('owner-slow@fintech.example', 'recertification expired'))[0]!.text).toContain('This is not held against');

    // The next sweep sends a fresh link (and suspends nobody); the spent one stays refused.
    const swept = await plane.sweep();
    expect(swept.suspended).toBe(0);
    expect(swept.recertificationsDue).toBe(1);
    const links = await mailsTo('owner-slow@fintech.example', 'confirm its access');
    expect(links).toHaveLength(2);
    expect(links[1]!.text).toContain('Bank reviewers did not decide on the last attestation');
    expect((await confirm(first)).status).not.toBe(200);

    const again = new Set((await mails()).map((m) => m.file));
    const attested = await confirm(attestationLink(links[1]!));
    expect(attested.status, attested.html).toBe(200);
    const second = (await consumer(slow)).recertification!.pending!.requestId;
    expect(second).not.toBe(requestId);
    const round1 = await recertificationReviewMail(again, slow);
    expect((await submitDecision(reviewLink(round1), 'approve', 'Contract on file')).status).toBe(200);
    const next = round1.to.includes(ALICE) ? BOB : ALICE;
    const seenRound2 = new Set((await mails()).map((m) => m.file));
    const round2 = await newMail(seenRound2, (m) => m.subject.includes('approval 2 of') && m.to.includes(next));
    expect((await submitDecision(reviewLink(round2), 'approve', 'Agreed')).status).toBe(200);

    await expect.poll(async () => (await consumer(slow)).recertification?.last?.requestId, { timeout: 5000 }).toBe(second);
    const confirmed = await consumer(slow);
    expect(confirmed.status).toBe('active');
    expect(confirmed.recertification).toMatchObject({ dueAt: new Date(clock.now().getTime() + 20 * DAY).toISOString() });
    expect(confirmed.recertification?.reopened).toBeUndefined();
    expect(plane.metrics.total('RecertificationOutcomes', { outcome: 'review_confirmed' })).toBe(1);
  });
});
