import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { PolicyDocument } from '../../lambdas/core/policy/schema.js';
import { postJson, publicRequest, registerPartner, startTestPlane } from '../integration/local-mode.js';
import { readOutbox, reviewLink, type OutboxMail } from '../integration/outbox.js';
import { approveByEmail, submitDecision } from '../integration/review-flow.js';
import { launchChromium, type LaunchedBrowser } from './browser.js';
import { pageText, watchPosts } from './review-page.js';

/**
 * A consumer's owner answers the periodic access review in headless Chromium from the link in their email, on the page
 * exactly as local mode serves it: no header set by hand, nothing intercepted. The policy is the shipped one with short
 * periods (and tokens:introspect open to the public tier), so consumers fall due before dormancy or expiry.
 */
const ALICE = 'alice.reviewer@bank.example';
const BOB = 'bob.reviewer@bank.example';
const DAY = 86_400_000;

let offset = 0;
let plane: LocalControlPlane;
let launched: LaunchedBrowser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-recert-browser-'));
  const policy = JSON.parse(readFileSync(new URL('../../policy/policy.json', import.meta.url), 'utf8')) as PolicyDocument;
  policy.tiers.public.scopes.push('tokens:introspect');
  policy.tiers.public.dataClasses.push('operational');
  policy.lifecycle.recertificationDays = { low: 20, medium: 20, high: 20 };
  policy.lifecycle.recertificationGraceDays = 5;
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  [plane, launched] = await Promise.all([
    startTestPlane({
      reviewers: { default: [ALICE, BOB] },
      clock: { now: () => new Date(Date.now() + offset) },
      consumerCacheMs: 0,
      policyFile: join(dir, 'policy.json'),
    }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await launched?.close();
  await plane?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ownerPage() {
  const context = await launched.browser.createBrowserContext();
  return { page: await context.newPage(), close: () => context.close() };
}

async function linkTo(contact: string): Promise<string> {
  await plane.notices.drain();
  const mail: OutboxMail | undefined = readOutbox(plane.outboxDir).find((m) => m.to.includes(contact) && m.subject.includes('confirm its access'));
  const m = mail && /(http:\/\/\S+\/recertifications\/\S+)/.exec(mail.text);
  if (!m) throw new Error(`no attestation link for ${contact}`);
  return m[1]!;
}

describe('attestation page in Chromium', () => {
  it('confirms a low-risk consumer while dropping its unused scope by its checkbox', async () => {
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({ scope: 'reference-data:read tokens:introspect', data_classes: ['public', 'operational'], contacts: ['owner@fintech.example'] }),
    );
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);
    offset = 21 * DAY;
    await plane.sweep();
    const link = await linkTo('owner@fintech.example');

    const owner = await ownerPage();
    try {
      const posts = watchPosts(owner.page);
      expect((await owner.page.goto(link))?.status()).toBe(200);
      const shown = await pageText(owner.page);
      expect(shown).toContain('FX rates widget');
      expect(shown).toContain('never used');
      expect(shown).toContain('client_secret_basic');
      await owner.page.click('input[name=drop][value="tokens:introspect"]');
      const button = await owner.page.$('::-p-xpath(//form//button[starts-with(normalize-space(.), "Confirm")])');
      const [response] = await Promise.all([owner.page.waitForNavigation(), button!.click()]);
      expect(response?.status(), await pageText(owner.page)).toBe(200);
      expect(await pageText(owner.page)).toContain('Dropped: tokens:introspect');
      // The browser's own Origin reached the handler, and at most the origin as Referer (the token stays in the URL).
      expect(posts).toEqual([{ origin: plane.url, referer: `${plane.url}/` }]);

      // The same link, opened again in the same browser, is spent.
      expect((await owner.page.goto(link))?.status()).toBe(409);
      expect(await pageText(owner.page)).toContain('already used');
    } finally {
      await owner.close();
    }
    const consumer = (await plane.services.consumers.getConsumer(clientId))!;
    expect(consumer.scopes).toEqual(['reference-data:read']);
    expect(consumer.recertification?.last).toMatchObject({ attestedBy: 'owner@fintech.example', scopesRemoved: ['tokens:introspect'] });
  });

  it('holds a high-risk attestation until bank reviewers confirm it, then starts the next period', async () => {
    offset = 0;
    const partner = await registerPartner(plane, {
      scope: 'payments:initiate reference-data:read',
      data_classes: ['payment', 'public'],
      contacts: ['cfo@sme.example'],
    });
    expect(partner.status, JSON.stringify(partner.json)).toBe(202);
    await approveByEmail(plane, partner.clientId, [ALICE, BOB]);
    await expect.poll(async () => (await plane.services.consumers.getConsumer(partner.clientId))?.status, { timeout: 5000 }).toBe('active');
    const dueAt = (await plane.services.consumers.getConsumer(partner.clientId))!.recertification!.dueAt;

    offset = 21 * DAY;
    await plane.sweep();
    const owner = await ownerPage();
    try {
      expect((await owner.page.goto(await linkTo('cfo@sme.example')))?.status()).toBe(200);
      expect(await pageText(owner.page)).toContain('a bank reviewer confirms your attestation');
      await owner.page.click('input[name=drop][value="reference-data:read"]');
      const button = await owner.page.$('::-p-xpath(//form//button[starts-with(normalize-space(.), "Confirm")])');
      const [response] = await Promise.all([owner.page.waitForNavigation(), button!.click()]);
      expect(response?.status(), await pageText(owner.page)).toBe(200);
      expect(await pageText(owner.page)).toContain('a bank reviewer now confirms');
    } finally {
      await owner.close();
    }
    const waiting = (await plane.services.consumers.getConsumer(partner.clientId))!;
    expect(waiting.scopes).toEqual(['payments:initiate']); // the drop lowers risk, so it applies at once
    expect(waiting.recertification).toMatchObject({ dueAt, pending: { attestedBy: 'cfo@sme.example', scopesRemoved: ['reference-data:read'] } });

    // Both reviewers confirm the recertification request from their emails.
    for (const [i, reviewer] of [ALICE, BOB].entries()) {
      const mail = () =>
        readOutbox(plane.outboxDir).find(
          (m) => m.to.includes(reviewer) && m.subject.includes('recertification for') && m.subject.includes(`approval ${i + 1} of`),
        );
      await expect.poll(mail, { timeout: 5000 }).toBeDefined();
      expect((await submitDecision(reviewLink(mail()!), 'approve', 'Checked with the partner')).status).toBe(200);
    }
    await expect.poll(async () => (await plane.services.consumers.getConsumer(partner.clientId))?.recertification?.pending, { timeout: 5000 }).toBeUndefined();
    const confirmed = (await plane.services.consumers.getConsumer(partner.clientId))!;
    expect(confirmed.recertification?.last).toMatchObject({ attestedBy: 'cfo@sme.example', confirmedBy: [ALICE, BOB], scopesRemoved: ['reference-data:read'] });
    expect(Date.parse(confirmed.recertification!.dueAt)).toBeGreaterThan(Date.parse(dueAt));
  });
});
