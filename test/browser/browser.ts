import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** A launched browser and how to put it away (a CHROME_PATH browser also gets its throwaway profile removed). */
export interface LaunchedBrowser {
  readonly browser: Browser;
  /** Where the browser came from, for failure messages. */
  readonly source: string;
  close(): Promise<void>;
}

const HOW_TO_GET_ONE =
  '`npm install` brings a headless Chromium in @sparticuz/chromium on Linux x64/arm64; elsewhere (e.g. macOS) set CHROME_PATH ' +
  'to a local Chrome or Chromium (e.g. CHROME_PATH=/usr/bin/chromium, or "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome").';

// A desktop Chrome started by hand would otherwise show first-run UI, phone home and update itself during a test.
const LOCAL_CHROME_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function cannotLaunch(what: string, cause: unknown): Error {
  return new Error(
    `The browser tests need a browser and could not launch ${what}: ${cause instanceof Error ? cause.message : String(cause)}\n${HOW_TO_GET_ONE}`,
    { cause },
  );
}

/**
 * Launches headless Chromium: the one at CHROME_PATH if set, else the one inside @sparticuz/chromium. Throws (never
 * skips) with instructions when neither launches, so a machine without a browser fails the suite instead of passing it.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const chromePath = process.env['CHROME_PATH'];
  if (chromePath) {
    const profile = mkdtempSync(join(tmpdir(), 'gatehouse-chrome-'));
    try {
      const browser = await puppeteer.launch({ executablePath: chromePath, headless: true, args: LOCAL_CHROME_ARGS, userDataDir: profile });
      return { browser, source: `CHROME_PATH=${chromePath}`, close: () => browser.close().finally(() => rmSync(profile, { recursive: true, force: true })) };
    } catch (error) {
      rmSync(profile, { recursive: true, force: true });
      throw cannotLaunch(`CHROME_PATH=${chromePath}`, error);
    }
  }
  try {
    const { default: chromium } = await import('@sparticuz/chromium');
    // No WebGL needed, and skipping it saves unpacking swiftshader.
    chromium.setGraphicsMode = false;
    // Its Lambda-minded --single-process crashes the browser when a test closes a browser context (one per reviewer).
    const args = chromium.args.filter((arg) => arg !== '--single-process');
    const browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), args, headless: 'shell' });
    return { browser, source: '@sparticuz/chromium', close: () => browser.close() };
  } catch (error) {
    throw cannotLaunch('the Chromium of @sparticuz/chromium', error);
  }
}

/** Launches headless Firefox from `path` (e.g. Debian's /usr/bin/firefox-esr) over WebDriver BiDi. */
export async function launchFirefox(path: string): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'gatehouse-firefox-'));
  try {
    const browser = await puppeteer.launch({ browser: 'firefox', executablePath: path, headless: true, userDataDir: profile });
    return { browser, source: path, close: () => browser.close().finally(() => rmSync(profile, { recursive: true, force: true })) };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`Could not launch Firefox at ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
