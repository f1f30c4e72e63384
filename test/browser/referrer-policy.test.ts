import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from './browser.js';
import { startFormServer, type FormServer } from './form-origin.js';

/**
 * The review POST is accepted only with the page's own Origin (or none). This documents the browser behaviour that
 * check depends on, with a page that is nothing but a form: under `Referrer-Policy: no-referrer` a browser sends
 * `Origin: null` on a same-origin form POST, so the review page must never be served with it.
 */
let launched: LaunchedBrowser;
let forms: FormServer;

beforeAll(async () => {
  [launched, forms] = await Promise.all([launchChromium(), startFormServer()]);
});
afterAll(async () => {
  await launched?.close();
  await forms?.close();
});

const submitUnder = (policies: { header: string | null; meta: string | null }) => forms.submitUnder(launched.browser, policies);

describe('Chromium: the Origin of a same-origin form POST under each referrer policy', () => {
  it('sends Origin: null under no-referrer, which the review page’s Origin check must refuse', async () => {
    expect(await submitUnder({ header: 'no-referrer', meta: null })).toEqual({ origin: 'null', referer: undefined });
  });

  it('sends the real origin, and only the origin as Referer (no link token), under strict-origin', async () => {
    expect(await submitUnder({ header: 'strict-origin', meta: null })).toEqual({ origin: forms.base, referer: `${forms.base}/` });
    expect(await submitUnder({ header: null, meta: 'strict-origin' })).toEqual({ origin: forms.base, referer: `${forms.base}/` });
  });

  it('lets a <meta name="referrer"> override the header: the page’s last word is what the form POST uses', async () => {
    expect(await submitUnder({ header: 'strict-origin', meta: 'no-referrer' })).toEqual({ origin: 'null', referer: undefined });
    expect(await submitUnder({ header: 'no-referrer', meta: 'strict-origin' })).toEqual({ origin: forms.base, referer: `${forms.base}/` });
  });
});
