import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'puppeteer-core';

/** The Origin and Referer headers a form POST arrived with (undefined: not sent). */
export interface Posted {
  readonly origin: string | undefined;
  readonly referer: string | undefined;
}

export interface FormServer {
  readonly base: string;
  /** Opens a page that is nothing but a form, under the given referrer policies (null: none), submits it in `browser` and returns what arrived. */
  submitUnder(browser: Browser, policies: { header: string | null; meta: string | null }): Promise<Posted>;
  close(): Promise<void>;
}

/** A loopback server with a one-button form page, which records the headers the browser sends with its POST. */
export async function startFormServer(): Promise<FormServer> {
  const posts: Posted[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'POST') {
      posts.push({ origin: req.headers.origin, referer: req.headers.referer });
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>received</title>received');
      return;
    }
    const header = url.searchParams.get('header');
    const meta = url.searchParams.get('meta');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(header ? { 'referrer-policy': header } : {}) });
    res.end(`<!doctype html><html><head><meta charset="utf-8">${meta ? `<meta name="referrer" content="${meta}">` : ''}<title>form</title></head><body>
<form method="post" action="/submit"><input type="hidden" name="x" value="1"><button type="submit">Send</button></form></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    base,
    async submitUnder(browser, policies) {
      // A token in the query, as in a review link, shows whether the path and query leak into the Referer.
      const query = new URLSearchParams({
        ...(policies.header ? { header: policies.header } : {}),
        ...(policies.meta ? { meta: policies.meta } : {}),
        t: 'secret-link-token',
      });
      const page = await browser.newPage();
      try {
        const opened = await page.goto(`${base}/form?${query}`);
        if (opened?.status() !== 200) throw new Error(`the form page answered ${opened?.status()}`);
        const before = posts.length;
        const [response] = await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
        if (response?.status() !== 200 || posts.length !== before + 1) throw new Error('the form POST did not arrive');
        return posts.at(-1)!;
      } finally {
        await page.close();
      }
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
