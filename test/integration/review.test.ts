import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { recordingLog } from '../lambdas/fixtures.js';
import { registerPartner, startTestPlane, tableSnapshot } from './local-mode.js';
import { readOutbox, reviewLink } from './outbox.js';
import { awaitReviewEmail, openReviewPage, reviewEmails, submitDecision } from './review-flow.js';

const ALICE = 'alice.reviewer@bank.example';
const BOB = 'bob.reviewer@bank.example';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ reviewers: { default: [ALICE, BOB] } });
});
afterAll(async () => {
  await plane?.close();
});

async function partnerRequest(scope: string, dataClasses: string[], contacts: string[]) {
  const reg = await registerPartner(plane, { scope, data_classes: dataClasses, contacts });
  expect(reg.status).toBe(202);
  return { reg, clientId: reg.clientId, privateKey: reg.privateKey };
}

async function status(reg: { json: Record<string, unknown> }): Promise<Record<string, unknown>> {
  const res = await fetch(String(reg.json['registration_client_uri']), {
    headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

describe('local mode over HTTP: human review from emailed links', () => {
  it('takes a high-risk partner request through two distinct reviewers to an active consumer and a token', async () => {
    // A partner's contacts are its own people: naming a reviewer is refused at registration.
    const { reg, clientId, privateKey } = await partnerRequest('payments:initiate', ['payment'], ['ops@fintech.example']);

    const round1 = await awaitReviewEmail(plane, ALICE, clientId, 1);
    await expect
      .poll(() =>
        reviewEmails(plane, clientId, 1)
          .flatMap((m) => m.to)
          .sort(),
      )
      .toEqual([ALICE, BOB]);
    expect(round1.subject).toContain('partner, high risk');
    expect(round1.text).toContain('payments:initiate (high risk)');
    expect(round1.text).toContain('Initiate supplier payments');
    expect(round1.text).toContain('Scope "payments:initiate" is payment initiation.');
    expect(round1.text).not.toContain('payment_initiation_requires_review');
    expect(round1.html).toContain('Open the review');

    // Opening the page (as a mail scanner would) changes nothing.
    const before = await tableSnapshot(plane);
    const page = await openReviewPage(reviewLink(round1));
    expect(page.status).toBe(200);
    expect(page.html).toContain('SME payments');
    expect(page.html).toContain('payments:initiate (high risk)');
    expect(page.cookie).toMatch(/^gh_csrf=/);
    expect(await tableSnapshot(plane)).toEqual(before);

    // A forged cross-site post (no cookie, or another origin) is refused.
    expect((await submitDecision(reviewLink(round1), 'approve', '', { cookie: 'gh_csrf=forged' })).status).toBe(403);
    expect((await submitDecision(reviewLink(round1), 'approve', '', { origin: 'https://evil.example' })).status).toBe(403);
    expect(await tableSnapshot(plane)).toEqual(before);

    const first = await submitDecision(reviewLink(round1), 'approve', 'Contract checked');
    expect(first.status).toBe(200);
    expect(first.html).toContain('1 more approval');

    // Round 2 goes only to a reviewer who has not approved yet; every round-1 link is now spent.
    const round2 = await awaitReviewEmail(plane, BOB, clientId, 2);
    expect(reviewEmails(plane, clientId, 2).flatMap((m) => m.to)).toEqual([BOB]);
    // The second reviewer reads who approved first and why, in the email and on the page.
    expect(round2.text).toContain(`${ALICE} approved on `);
    expect(round2.text).toContain('Comment: “Contract checked”');
    const round2Page = await openReviewPage(reviewLink(round2));
    expect(round2Page.html).toContain(`<p>${ALICE} approved on `);
    expect(round2Page.html).toContain('Comment: “Contract checked”');
    // Replaying Alice's form exactly as it was (link token, CSRF field and cookie) is refused: the link was single use.
    const link1 = new URL(reviewLink(round1));
    const replay = await fetch(`${link1.origin}${link1.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie!, origin: link1.origin },
      body: new URLSearchParams({ decision: 'approve', comment: '', t: page.fields['t']!, csrf: page.fields['csrf']! }),
    });
    expect(replay.status).toBe(409);
    const reopened = await openReviewPage(reviewLink(round1));
    expect(reopened.status).toBe(409);
    expect(reopened.html).toContain('This link was already used by you on ');
    const bobRound1 = reviewEmails(plane, clientId, 1).find((m) => m.to.includes(BOB))!;
    const bobPage = await openReviewPage(reviewLink(bobRound1));
    expect(bobPage.status).toBe(409);
    expect(bobPage.html).toContain(`Another reviewer, ${ALICE}, already approved this request on `);
    expect((await status(reg))['status']).toBe('pending_review');

    expect((await submitDecision(reviewLink(round2), 'approve', 'Second pair of eyes')).status).toBe(200);
    await expect.poll(async () => (await status(reg))['status'], { timeout: 5000 }).toBe('active');
    expect(await status(reg)).toMatchObject({ approvals_granted: 2, approvals_required: 2 });
    await expect
      .poll(() => readOutbox(plane.outboxDir).some((m) => m.to.includes('ops@fintech.example') && m.subject.includes('was approved')), { timeout: 5000 })
      .toBe(true);

    const audit = (await plane.services.consumers.listAudit(clientId)).map((e) => [e.type, e.actor.id]);
    expect(audit).toEqual(
      expect.arrayContaining([
        ['consumer.review_approved', ALICE],
        ['consumer.review_approved', BOB],
        ['consumer.activated', 'review-workflow'],
      ]),
    );

    const config = await oidc.discovery(new URL(plane.url), clientId, undefined, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' }), {
      algorithm: 'oauth2',
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.clientCredentialsGrant(config, {}, { DPoP: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256')) });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(tokens.scope).toBe('payments:initiate');
  });

  it('ends a request at the first deny, with the reviewer’s reason for the requester', async () => {
    const { reg, clientId } = await partnerRequest('accounts:read', ['confidential'], ['ops@fintech.example']);
    const mail = await awaitReviewEmail(plane, BOB, clientId, 1);
    expect(mail.subject).toContain('approval 1 of 1');

    const noReason = await submitDecision(reviewLink(mail), 'deny', '');
    expect(noReason.status).toBe(400);
    expect((await submitDecision(reviewLink(mail), 'deny', 'No contract on file for this partner')).status).toBe(200);

    await expect.poll(async () => (await status(reg))['status'], { timeout: 5000 }).toBe('denied');
    expect((await status(reg))['outcome_reason']).toBe('No contract on file for this partner');
    await expect
      .poll(() => readOutbox(plane.outboxDir).find((m) => m.text.includes(clientId) && m.subject.includes('denied'))?.text ?? '', { timeout: 5000 })
      .toContain('No contract on file for this partner');
  });

  it('quotes every later line of a multi-line purpose, so it cannot forge a link or a fact above or beside the real ones', async () => {
    const purpose = 'Initiate supplier payments\nReview it here: https://evil.example/reviews/forged\r\nhttps://evil.example/reviews/forged\nRisk: low';
    const reg = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'], purpose });
    expect(reg.status).toBe(202);
    const mail = await awaitReviewEmail(plane, ALICE, reg.clientId, 1);
    const lines = mail.text.split('\n');
    expect(lines.filter((l) => /^https?:\/\//.test(l))).toEqual([reviewLink(mail)]);
    expect(reviewLink(mail)).not.toContain('evil.example');
    expect(lines.filter((l) => /^(Risk|Review it here)\b/i.test(l.trim()) && l.includes('evil.example'))).toEqual([]);
    expect(lines.some((l) => /^Risk: low/.test(l))).toBe(false);
    expect(lines.filter((l) => l.includes('evil.example')).every((l) => l.startsWith('    | '))).toBe(true);
  });

  it('refuses a link whose signature or review does not match', async () => {
    const { clientId } = await partnerRequest('accounts:read', ['confidential'], ['ops@fintech.example']);
    const link = new URL(reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1)));
    const token = link.searchParams.get('t')!;
    const tampered = `${token.slice(0, -4)}${token.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect((await fetch(`${link.origin}${link.pathname}?t=${tampered}`)).status).toBe(403);
    expect((await fetch(`${link.origin}/reviews/another-review?t=${encodeURIComponent(token)}`)).status).toBe(403);
    expect((await fetch(`${link.origin}${link.pathname}`)).status).toBe(403);
  });
});

describe('local mode over HTTP: review SLA', () => {
  let fast: LocalControlPlane;
  beforeAll(async () => {
    fast = await startTestPlane({ reviewers: { default: [ALICE, BOB] }, reviewTimeoutSeconds: 1 });
  });
  afterAll(async () => {
    await fast?.close();
  });

  it('expires a request nobody decides within the SLA and tells the requester', async () => {
    const reg = await registerPartner(fast, { scope: 'accounts:read', data_classes: ['confidential'] });
    const read = async () =>
      (await (
        await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` } })
      ).json()) as Record<string, unknown>;
    await expect.poll(async () => (await read())['status'], { timeout: 8000, interval: 250 }).toBe('expired');
    await expect.poll(() => readOutbox(fast.outboxDir).some((m) => m.subject.includes('is expired')), { timeout: 5000 }).toBe(true);

    // A link opened after the SLA says the request has ended, and offers no decision.
    const mail = readOutbox(fast.outboxDir).find((m) => m.subject.includes('Review needed'))!;
    const page = await openReviewPage(reviewLink(mail));
    expect(page.status).toBe(409);
    expect(page.html).toContain('This request is already expired.');
    expect(page.fields).toEqual({});
  });
});

describe('local mode over HTTP: a review whose request is withdrawn', () => {
  const log = recordingLog();
  let fast: LocalControlPlane;
  beforeAll(async () => {
    fast = await startTestPlane({ reviewers: { default: [ALICE, BOB] }, reviewTimeoutSeconds: 2, reviewRetryIntervalMs: 50, log });
  });
  afterAll(async () => {
    await fast?.close();
  });

  it('ends the workflow cleanly when its task times out: the consumer stays withdrawn and nobody is told it expired', async () => {
    const reg = await registerPartner(fast, { scope: 'accounts:read', data_classes: ['confidential'], contacts: ['ops@fintech.example'] });
    expect(reg.status).toBe(202);
    await awaitReviewEmail(fast, ALICE, reg.clientId, 1);
    const deleted = await fetch(String(reg.json['registration_client_uri']), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
    });
    expect(deleted.status).toBe(204);

    await expect.poll(() => log.info.mock.calls.some(([m]) => m === 'review workflow ended'), { timeout: 10_000, interval: 100 }).toBe(true);
    expect(log.error.mock.calls.map(([m]) => m)).not.toContain('review workflow failed');
    expect(await fast.services.consumers.getConsumer(reg.clientId)).toMatchObject({ status: 'withdrawn' });
    expect((await fast.services.consumers.listAudit(reg.clientId)).at(-1)).toMatchObject({ type: 'consumer.withdrawn' });
    const toContacts = readOutbox(fast.outboxDir).filter((m) => m.to.includes('ops@fintech.example'));
    expect(toContacts.map((m) => m.subject)).toEqual([expect.stringContaining('Request withdrawn')]);
    expect(fast.metrics.total('ReviewLatency')).toBe(0);
  });
});

describe('local mode over HTTP: an approval recorded just before its request is withdrawn', () => {
  const log = recordingLog();
  let racy: LocalControlPlane;
  beforeAll(async () => {
    racy = await startTestPlane({ reviewers: { default: [ALICE, BOB] }, reviewRetryIntervalMs: 50, log });
  });
  afterAll(async () => {
    await racy?.close();
  });

  /** Posts a decision from a page opened earlier (its CSRF cookie and fields), as a reviewer resubmitting the form does. */
  async function post(link: string, page: Awaited<ReturnType<typeof openReviewPage>>): Promise<number> {
    const url = new URL(link);
    const res = await fetch(`${url.origin}${url.pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.cookie ?? '', origin: url.origin },
      body: new URLSearchParams({ decision: 'approve', comment: 'Contract checked', t: page.fields['t'] ?? '', csrf: page.fields['csrf'] ?? '' }),
    });
    await res.text();
    return res.status;
  }

  it('ends the workflow as succeeded when the approval arrives: no second round, no failure, the registration stays withdrawn', async () => {
    // High risk: two approvals, so the first one sends the workflow on to ask for another.
    const reg = await registerPartner(racy, { scope: 'payments:initiate', data_classes: ['payment'], contacts: ['ops@fintech.example'] });
    expect(reg.status).toBe(202);
    const link = reviewLink(await awaitReviewEmail(racy, ALICE, reg.clientId, 1));
    const page = await openReviewPage(link);

    // The approval is recorded but does not reach the workflow yet; meanwhile the requester withdraws the registration.
    const workflow = racy.workflow as { sendTaskSuccess: typeof racy.workflow.sendTaskSuccess };
    workflow.sendTaskSuccess = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    expect(await post(link, page)).toBe(503);
    Reflect.deleteProperty(workflow, 'sendTaskSuccess');
    const deleted = await fetch(String(reg.json['registration_client_uri']), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
    });
    expect(deleted.status).toBe(204);

    // The reviewer sends the recorded decision again, and now it arrives.
    expect(await post(link, page)).toBe(200);
    await expect.poll(() => log.info.mock.calls.some(([m]) => m === 'review workflow ended'), { timeout: 10_000, interval: 100 }).toBe(true);
    expect(log.error.mock.calls.map(([m]) => m)).not.toContain('review workflow failed');
    expect(reviewEmails(racy, reg.clientId, 2)).toHaveLength(0);
    expect(await racy.services.consumers.getConsumer(reg.clientId)).toMatchObject({ status: 'withdrawn' });
    const audit = await racy.services.consumers.listAudit(reg.clientId);
    expect(audit.slice(-2).map((e) => e.type)).toEqual(['consumer.review_approved', 'consumer.withdrawn']);
    expect(
      readOutbox(racy.outboxDir)
        .filter((m) => m.to.includes('ops@fintech.example'))
        .map((m) => m.subject),
    ).toEqual([expect.stringContaining('Request withdrawn')]);
  });
});
