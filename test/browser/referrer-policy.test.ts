import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { registerPartner, startTestPlane } from '../integration/local-mode.js';
import { reviewLink } from '../integration/outbox.js';
import { awaitReviewEmail } from '../integration/review-flow.js';
import { launchChromium, type LaunchedBrowser } from './browser.js';

/**
 * The review POST is accepted only with the page's own Origin (or none). This documents the browser behaviour that
 * check depends on, with a page that is nothing but a form: under `Referrer-Policy: no-referrer` a browser sends
 * `Origin: null` on a same-origin form POST, so the review page must never be served with it.
 */
interface Posted {
  readonly origin: string | undefined;
  readonly referer: string | undefined;
}

let launched: LaunchedBrowser;
let plane: LocalControlPlane;
let server: Server;
let base: string;
const posts: Posted[] = [];

function formPage(metaPolicy: string | null): string {
  const meta = metaPolicy === null ? '' : `<meta name="referrer" content="${metaPolicy}">`;
  return `<!doctype html><html><head><meta charset="utf-8">${meta}<title>form</title></head><body>
<form method="post" action="/submit"><input type="hidden" name="x" value="1"><button type="submit">Send</button></form></body></html>`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST' && url.pathname === '/submit') {
      const h: IncomingHttpHeaders = req.headers;
      posts.push({ origin: h.origin, referer: h.referer });
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>ok</title>received');
      return;
    }
    const headerPolicy = url.searchParams.get('header');
    const metaPolicy = url.searchParams.get('meta');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(headerPolicy ? { 'referrer-policy': headerPolicy } : {}) });
    res.end(formPage(metaPolicy));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  [launched, plane] = await Promise.all([launchChromium(), startTestPlane({ reviewers: { default: ['alice.reviewer@bank.example'] } })]);
});

afterAll(async () => {
  await launched?.close();
  await plane?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Opens the form page with the given policies (null: none), submits it, and returns what the server received. */
async function submitUnder(policies: { header: string | null; meta: string | null }): Promise<Posted> {
  const query = new URLSearchParams({ ...(policies.header ? { header: policies.header } : {}), ...(policies.meta ? { meta: policies.meta } : {}), t: 'secret-link-token' });
  const context = await launched.browser.createBrowserContext();
  try {
    const page = await context.newPage();
    expect((await page.goto(`${base}/form?${query}`))?.status()).toBe(200);
    const before = posts.length;
    const [response] = await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
    expect(response?.status()).toBe(200);
    expect(posts).toHaveLength(before + 1);
    return posts.at(-1)!;
  } finally {
    await context.close();
  }
}

describe('Chromium: the Origin of a same-origin form POST under each referrer policy', () => {
  it('sends Origin: null under no-referrer, which the review page’s Origin check must refuse', async () => {
    expect(await submitUnder({ header: 'no-referrer', meta: null })).toEqual({ origin: 'null', referer: undefined });
  });

  it('sends the real origin, and only the origin as Referer (no link token), under strict-origin', async () => {
    expect(await submitUnder({ header: 'strict-origin', meta: null })).toEqual({ origin: base, referer: `${base}/` });
    expect(await submitUnder({ header: null, meta: 'strict-origin' })).toEqual({ origin: base, referer: `${base}/` });
  });

  it('lets a <meta name="referrer"> override the header: the page’s last word is what the form POST uses', async () => {
    expect(await submitUnder({ header: 'strict-origin', meta: 'no-referrer' })).toEqual({ origin: 'null', referer: undefined });
    expect(await submitUnder({ header: 'no-referrer', meta: 'strict-origin' })).toEqual({ origin: base, referer: `${base}/` });
  });
});

describe('review page: its declared referrer policies', () => {
  // The header and the <meta> can each be changed on its own (and the <meta> wins while both exist), so each must on its
  // own keep the browser's real Origin on the decision POST.
  it('each, on its own, makes Chromium send the real Origin on the form POST', async () => {
    const reg = await registerPartner(plane, { scope: 'accounts:read', data_classes: ['confidential'] });
    expect(reg.status).toBe(202);
    const link = reviewLink(await awaitReviewEmail(plane, 'alice.reviewer@bank.example', reg.clientId, 1));
    const context = await launched.browser.createBrowserContext();
    let declared: string[];
    try {
      const page = await context.newPage();
      const response = await page.goto(link);
      expect(response?.status()).toBe(200);
      const header = response?.headers()['referrer-policy'];
      const metas = (await page.evaluate(`Array.from(document.querySelectorAll('meta[name="referrer"]'), (m) => m.content)`)) as string[];
      declared = [...(header === undefined ? [] : [header]), ...metas];
    } finally {
      await context.close();
    }
    // Without any, the browser default would put the whole URL, link token included, in same-origin Referer headers.
    expect(declared.length).toBeGreaterThan(0);
    for (const policy of declared) {
      expect(await submitUnder({ header: policy, meta: null }), `Referrer-Policy: ${policy}`).toMatchObject({ origin: base });
    }
  });
});
