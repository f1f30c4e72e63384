import type { ElementHandle, HTTPResponse, Page } from 'puppeteer-core';

/** The page's visible text, as a reviewer reads it. */
export async function pageText(page: Page): Promise<string> {
  return String(await page.evaluate('document.body.innerText'));
}

/** The submit button whose label starts with Approve/Deny, and the form it submits (found by label, not by markup details). */
export async function decisionForm(page: Page, decision: 'approve' | 'deny'): Promise<{ form: ElementHandle; button: ElementHandle }> {
  const label = decision === 'approve' ? 'Approve' : 'Deny';
  const button = await page.$(`::-p-xpath(//form//button[not(@type) or @type="submit"][starts-with(normalize-space(.), "${label}")])`);
  if (!button) throw new Error(`no ${label} button on the page:\n${await pageText(page)}`);
  const form = await button.$('::-p-xpath(ancestor::form)');
  if (!form) throw new Error(`the ${label} button is not in a form`);
  return { form, button };
}

/** Types the comment into the decision's form like a person, clicks its button and returns the response it navigates to. */
export async function decide(page: Page, decision: 'approve' | 'deny', comment: string): Promise<HTTPResponse | null> {
  const { form, button } = await decisionForm(page, decision);
  const textarea = await form.$('textarea[name=comment]');
  if (!textarea) throw new Error(`no comment box in the ${decision} form`);
  if (comment) await textarea.type(comment);
  const [response] = await Promise.all([page.waitForNavigation(), button.click()]);
  return response;
}

/** The Origin and Referer of every POST the page sends, as observed (nothing is intercepted or changed). */
export function watchPosts(page: Page): { origin: string | undefined; referer: string | undefined }[] {
  const posts: { origin: string | undefined; referer: string | undefined }[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST') posts.push({ origin: request.headers()['origin'], referer: request.headers()['referer'] });
  });
  return posts;
}
