import chromium from '@sparticuz/chromium';
import { exportJWK, generateKeyPair } from 'jose';
import puppeteer, { type Browser } from 'puppeteer-core';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { consoleLog } from '../lambdas/adapters/local/console-log.js';
import { startLocalControlPlane } from '../lambdas/adapters/local/control-plane.js';
import type { Email } from '../lambdas/core/ports.js';

/**
 * `npm run screenshots`: the review page as a second reviewer sees it (desktop and phone width), taken from local mode
 * in headless Chromium, into docs/. A high-risk partner request is approved once through the page, with a comment, and
 * the round-2 link is opened. CHROME_PATH points at another Chromium when the bundled one cannot run here.
 */
async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'docs');
  mkdirSync(out, { recursive: true });
  const emails: Email[] = [];
  const plane = await startLocalControlPlane({ port: 0, dataDir: undefined, log: consoleLog({ silent: true }), onEmail: (_file, email) => emails.push(email) });
  let browser: Browser | undefined;
  try {
    const key = await generateKeyPair('ES256', { extractable: true });
    const statement = await plane.softwareStatements.sign({ software_id: 'sme-payments', tier: 'partner', org_name: 'Fintech Ltd' });
    const res = await fetch(`${plane.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'SME payments',
        tier: 'partner',
        scope: 'payments:initiate',
        purpose: 'Initiate supplier payments on behalf of SME customers',
        data_classes: ['payment'],
        contacts: ['ops@fintech.example'],
        expires_at: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256' }] },
        software_statement: statement,
      }),
    });
    const clientId = String(((await res.json()) as Record<string, unknown>)['client_id']);
    if (res.status !== 202) throw new Error(`registration answered ${res.status}, not 202 (review)`);

    const linkFor = async (round: number): Promise<string> => {
      for (let i = 0; i < 100; i++) {
        const mail = emails.find((m) => m.text.includes(clientId) && m.subject.includes(`approval ${round} of`));
        const link = mail && /(https?:\/\/\S+\/reviews\/\S+)/.exec(mail.text)?.[1];
        if (link) return link;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no round-${round} review email arrived`);
    };

    browser = await puppeteer.launch({ executablePath: process.env['CHROME_PATH'] ?? (await chromium.executablePath()), args: chromium.args, headless: true });
    const page = await browser.newPage();
    await page.goto(await linkFor(1));
    await page.type('form:first-of-type textarea[name=comment]', 'Contract and PSD2 licence checked with the commercial team.');
    await Promise.all([page.waitForNavigation(), page.click('button.approve')]);
    if (!(await page.content()).includes('You approved')) throw new Error('the first approval was not recorded');

    await page.goto(await linkFor(2));
    for (const [name, width] of [
      ['desktop', 1280],
      ['phone', 390],
    ] as const) {
      await page.setViewport({ width, height: 800, deviceScaleFactor: 1 });
      const file = resolve(out, `review-page-${name}.png`);
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
      process.stdout.write(`${file}\n`);
    }
  } finally {
    await browser?.close();
    await plane.close();
  }
}

await main();
