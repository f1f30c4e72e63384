import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { Log } from '../../lambdas/core/services.js';
import { registerPartner, startTestPlane } from '../integration/local-mode.js';
import { readOutbox, reviewLink } from '../integration/outbox.js';
import { awaitReviewEmail, reviewEmails } from '../integration/review-flow.js';
import { launchChromium, type LaunchedBrowser } from './browser.js';
import { startFormServer, type FormServer } from './form-origin.js';
import { decide, decisionForm, pageText, watchPosts } from './review-page.js';

/**
 * Reviewers decide in headless Chromium from the links in their emails, on the pages exactly as local mode serves them:
 * no header is set by hand and no request is intercepted, so the browser's own Origin, Referer and cookies are what
 * the review handler sees.
 */
const ALICE = 'alice.reviewer@bank.example';
const BOB = 'bob.reviewer@bank.example';
const REQUESTER = 'ops@fintech.example';

// The plane's clock runs with real time (registrations carry real expiry dates) and jumps ahead when a test sets `offset`.
let offset = 0;
const warnings: { message: string; extra: Record<string, unknown> | undefined }[] = [];
const log: Log = { info: () => {}, warn: (message, extra) => void warnings.push({ message, extra }), error: () => {} };

let plane: LocalControlPlane;
let launched: LaunchedBrowser;
let forms: FormServer;

beforeAll(async () => {
  [plane, launched, forms] = await Promise.all([
    startTestPlane({ reviewers: { default: [ALICE, BOB] }, clock: { now: () => new Date(Date.now() + offset) }, log }),
    launchChromium(),
    startFormServer(),
  ]);
});
afterAll(async () => {
  await launched?.close();
  await plane?.close();
  await forms?.close();
});
afterEach(() => {
  offset = 0;
});

/** A fresh browser context per reviewer: their own cookies, as on their own machine. */
async function reviewerPage() {
  const context = await launched.browser.createBrowserContext();
  return { page: await context.newPage(), close: () => context.close() };
}

async function partnerRequest(scope: string, dataClasses: string[]) {
  const reg = await registerPartner(plane, { scope, data_classes: dataClasses, contacts: [REQUESTER] });
  expect(reg.status, JSON.stringify(reg.json)).toBe(202);
  const read = async (): Promise<Record<string, unknown>> =>
    (await (
      await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` } })
    ).json()) as Record<string, unknown>;
  return { clientId: reg.clientId, read };
}

const refusals = () => warnings.filter((w) => w.message === 'review decision refused');

describe('review page in Chromium: approving', () => {
  it('takes a high-risk request through two reviewers’ pages to an active consumer and an outcome email', async () => {
    const { clientId, read } = await partnerRequest('payments:initiate', ['payment']);
    const link1 = reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1));

    const alice = await reviewerPage();
    try {
      const posts = watchPosts(alice.page);
      const opened = await alice.page.goto(link1);
      expect(opened?.status()).toBe(200);
      const shown = await pageText(alice.page);
      expect(shown).toContain('SME payments');
      expect(shown).toContain('payments:initiate');
      expect(shown).toMatch(/high/i);
      await decisionForm(alice.page, 'approve');
      await decisionForm(alice.page, 'deny');

      const refusedBefore = refusals().length;
      const decided = await decide(alice.page, 'approve', 'Contract checked');
      expect(decided?.status(), await pageText(alice.page)).toBe(200);
      const recorded = await pageText(alice.page);
      expect(recorded).toContain('Decision recorded');
      expect(recorded).toContain('SME payments');
      // The browser sent the page's real origin (what the Origin check needs) and at most the origin as Referer, so
      // the link token in the page's URL never leaves in a header.
      expect(posts).toEqual([{ origin: plane.url, referer: `${plane.url}/` }]);
      expect(refusals()).toHaveLength(refusedBefore);
    } finally {
      await alice.close();
    }
    expect((await read())['status']).toBe('pending_review');

    const round2 = await awaitReviewEmail(plane, BOB, clientId, 2);
    expect(reviewEmails(plane, clientId, 2).flatMap((m) => m.to)).toEqual([BOB]);
    const bob = await reviewerPage();
    try {
      expect((await bob.page.goto(reviewLink(round2)))?.status()).toBe(200);
      const shown = await pageText(bob.page);
      expect(shown).toContain('SME payments');
      expect(shown).toContain(ALICE); // the second reviewer sees who approved first
      const decided = await decide(bob.page, 'approve', 'Second pair of eyes');
      expect(decided?.status(), await pageText(bob.page)).toBe(200);
      expect(await pageText(bob.page)).toContain('Decision recorded');
    } finally {
      await bob.close();
    }

    await expect.poll(async () => (await read())['status'], { timeout: 5000 }).toBe('active');
    expect(await read()).toMatchObject({ approvals_granted: 2, approvals_required: 2 });
    await expect
      .poll(() => readOutbox(plane.outboxDir).some((m) => m.to.includes(REQUESTER) && m.text.includes(clientId) && m.subject.includes('was approved')), {
        timeout: 5000,
      })
      .toBe(true);
  });
});

describe('review page in Chromium: denying', () => {
  it('denies with the reason typed on the page, which becomes the consumer’s outcome reason and reaches the requester', async () => {
    const { clientId, read } = await partnerRequest('payments:initiate', ['payment']);
    const reviewer = await reviewerPage();
    try {
      expect((await reviewer.page.goto(reviewLink(await awaitReviewEmail(plane, BOB, clientId, 1))))?.status()).toBe(200);
      const decided = await decide(reviewer.page, 'deny', 'No contract on file for this partner');
      expect(decided?.status(), await pageText(reviewer.page)).toBe(200);
      expect(await pageText(reviewer.page)).toContain('Decision recorded');
    } finally {
      await reviewer.close();
    }
    await expect.poll(async () => (await read())['status'], { timeout: 5000 }).toBe('denied');
    expect((await read())['outcome_reason']).toBe('No contract on file for this partner');
    await expect
      .poll(() => readOutbox(plane.outboxDir).find((m) => m.to.includes(REQUESTER) && m.text.includes(clientId) && m.subject.includes('denied'))?.text ?? '', {
        timeout: 5000,
      })
      .toContain('No contract on file for this partner');
  });
});

describe('review page in Chromium: links that can no longer decide', () => {
  it('refuses a decision from a page opened before another reviewer decided, and the link afterwards', async () => {
    const { clientId, read } = await partnerRequest('accounts:read', ['confidential']);
    const aliceLink = reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1));
    const bobLink = reviewLink(await awaitReviewEmail(plane, BOB, clientId, 1));
    const alice = await reviewerPage();
    const bob = await reviewerPage();
    try {
      expect((await bob.page.goto(bobLink))?.status()).toBe(200);
      expect((await alice.page.goto(aliceLink))?.status()).toBe(200);
      expect((await decide(alice.page, 'approve', ''))?.status()).toBe(200);
      await expect.poll(async () => (await read())['status'], { timeout: 5000 }).toBe('active');

      const late = await decide(bob.page, 'deny', 'Too late to matter');
      expect(late?.status()).toBe(409);
      expect(await pageText(bob.page)).not.toContain('Decision recorded');
      expect((await bob.page.goto(bobLink))?.status()).toBe(409);
      expect(await pageText(bob.page)).toMatch(/already/i);
      expect(await read()).toMatchObject({ status: 'active' });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('refuses a page left open past the review deadline, and the expired link', async () => {
    const { clientId, read } = await partnerRequest('accounts:read', ['confidential']);
    const link = reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1));
    const reviewer = await reviewerPage();
    try {
      expect((await reviewer.page.goto(link))?.status()).toBe(200);
      offset = 73 * 3_600_000; // past the policy's 72-hour review SLA on the plane's clock
      const decided = await decide(reviewer.page, 'approve', 'Back from holiday');
      expect(decided?.status()).toBe(410);
      expect(await pageText(reviewer.page)).not.toContain('Decision recorded');
      expect((await reviewer.page.goto(link))?.status()).toBe(410);
      expect((await read())['status']).toBe('pending_review');
      expect((await plane.services.consumers.listAudit(clientId)).map((e) => e.type)).not.toContain('consumer.review_approved');
    } finally {
      await reviewer.close();
    }
  });

  it('records a decision once when its form is sent again (reload of the result page, back to the link)', async () => {
    const { clientId, read } = await partnerRequest('payments:initiate', ['payment']);
    const link = reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1));
    const reviewer = await reviewerPage();
    try {
      const posts = watchPosts(reviewer.page);
      expect((await reviewer.page.goto(link))?.status()).toBe(200);
      expect((await decide(reviewer.page, 'approve', 'Contract checked'))?.status()).toBe(200);

      // Reloading the result page sends the same form POST again.
      const refusedBefore = refusals().length;
      const resent = await reviewer.page.reload();
      expect(posts).toHaveLength(2);
      expect(resent?.status()).toBeGreaterThanOrEqual(400);
      expect(resent?.status()).toBeLessThan(500);
      expect(await pageText(reviewer.page)).not.toContain('Decision recorded');
      // Operators see the refused POST, without the link token.
      expect(refusals()).toHaveLength(refusedBefore + 1);
      expect(JSON.stringify(refusals().at(-1))).not.toContain(new URL(link).searchParams.get('t')!);

      // Going back re-opens the link (the page is not cached), which is spent.
      const back = await reviewer.page.goBack();
      expect(back?.status()).toBe(409);
      expect(await pageText(reviewer.page)).toMatch(/already/i);
    } finally {
      await reviewer.close();
    }
    expect(await read()).toMatchObject({ status: 'pending_review', approvals_granted: 1 });
    const approvals = (await plane.services.consumers.listAudit(clientId)).filter((e) => e.type === 'consumer.review_approved');
    expect(approvals.map((e) => e.actor.id)).toEqual([ALICE]);
  });
});

describe('review page in Chromium: its declared referrer policies', () => {
  // The header and the <meta> can each be changed on its own (and the <meta> wins while both exist), so each must on its
  // own keep the browser's real Origin on the decision POST.
  it('each, on its own, makes Chromium send the real Origin on a form POST', async () => {
    const { clientId } = await partnerRequest('accounts:read', ['confidential']);
    const reviewer = await reviewerPage();
    let declared: string[];
    try {
      const response = await reviewer.page.goto(reviewLink(await awaitReviewEmail(plane, ALICE, clientId, 1)));
      expect(response?.status()).toBe(200);
      const header = response?.headers()['referrer-policy'];
      const metas = (await reviewer.page.evaluate(`Array.from(document.querySelectorAll('meta[name="referrer"]'), (m) => m.content)`)) as string[];
      declared = [...(header === undefined ? [] : [header]), ...metas];
    } finally {
      await reviewer.close();
    }
    // Without any, the browser default would put the whole URL, link token included, in same-origin Referer headers.
    expect(declared.length).toBeGreaterThan(0);
    for (const policy of declared) {
      expect(await forms.submitUnder(launched.browser, { header: policy, meta: null }), `Referrer-Policy: ${policy}`).toMatchObject({ origin: forms.base });
    }
  });
});
