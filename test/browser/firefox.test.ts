import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { registerPartner, startTestPlane } from '../integration/local-mode.js';
import { readOutbox, reviewLink } from '../integration/outbox.js';
import { awaitReviewEmail } from '../integration/review-flow.js';
import { launchFirefox, type LaunchedBrowser } from './browser.js';
import { decide, decisionForm, pageText, watchPosts } from './review-page.js';

/**
 * The approve flow in Firefox, which applies the referrer policy to a form POST's Origin like Chromium does. Opt-in
 * (a Firefox is not part of `npm install`): GATEHOUSE_FIREFOX=/usr/bin/firefox-esr npm run test:browser
 */
const FIREFOX = process.env['GATEHOUSE_FIREFOX'];
const ALICE = 'alice.reviewer@bank.example';
const REQUESTER = 'ops@fintech.example';

describe.runIf(FIREFOX)('review page in Firefox: approving', () => {
  let plane: LocalControlPlane;
  let launched: LaunchedBrowser;
  beforeAll(async () => {
    [plane, launched] = await Promise.all([startTestPlane({ reviewers: { default: [ALICE] } }), launchFirefox(FIREFOX!)]);
  });
  afterAll(async () => {
    await launched?.close();
    await plane?.close();
  });

  it('approves from the emailed link through the page’s own form, with the browser’s real Origin, to an active consumer', async () => {
    const reg = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'], contacts: [REQUESTER] });
    expect(reg.status).toBe(202);
    const link = reviewLink(await awaitReviewEmail(plane, ALICE, reg.clientId, 1));
    const page = await launched.browser.newPage();
    const posts = watchPosts(page);
    expect((await page.goto(link))?.status()).toBe(200);
    expect(await pageText(page)).toContain('SME payments');
    await decisionForm(page, 'deny');

    const decided = await decide(page, 'approve', 'Contract checked');
    expect(decided?.status(), await pageText(page)).toBe(200);
    expect(await pageText(page)).toContain('Decision recorded');
    expect(posts.map((p) => p.origin)).toEqual([plane.url]);

    const read = async () =>
      (
        (await (
          await fetch(String(reg.json['registration_client_uri']), { headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` } })
        ).json()) as Record<string, unknown>
      )['status'];
    await expect.poll(read, { timeout: 5000 }).toBe('active');
    await expect
      .poll(() => readOutbox(plane.outboxDir).some((m) => m.to.includes(REQUESTER) && m.subject.includes('was approved')), { timeout: 5000 })
      .toBe(true);
  });
});
