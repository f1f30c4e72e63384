import { expect } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { readOutbox, reviewLink, type OutboxMail } from './outbox.js';

/** The review emails about `clientId` for approval round `round`. */
export function reviewEmails(plane: LocalControlPlane, clientId: string, round: number): OutboxMail[] {
  return readOutbox(plane.outboxDir).filter(
    (m) => m.text.includes(clientId) && m.subject.includes(`Review needed`) && m.subject.includes(`approval ${round} of`),
  );
}

/** Waits for the round-`round` review email to `reviewer` about `clientId`. */
export async function awaitReviewEmail(plane: LocalControlPlane, reviewer: string, clientId: string, round: number): Promise<OutboxMail> {
  await expect.poll(() => reviewEmails(plane, clientId, round).some((m) => m.to.includes(reviewer)), { timeout: 5000 }).toBe(true);
  return reviewEmails(plane, clientId, round).find((m) => m.to.includes(reviewer))!;
}

/** Opens a review link like a browser: returns the page, the CSRF cookie and the hidden form fields. */
export async function openReviewPage(link: string): Promise<{ status: number; html: string; cookie: string | undefined; fields: Record<string, string> }> {
  const res = await fetch(link);
  const html = await res.text();
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(t|csrf)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  return { status: res.status, html, cookie, fields };
}

/** Submits a decision from the review page, as the page's form would. */
export async function submitDecision(
  link: string,
  decision: 'approve' | 'deny',
  comment = '',
  overrides: { cookie?: string; origin?: string } = {},
): Promise<{ status: number; html: string }> {
  const page = await openReviewPage(link);
  const url = new URL(link);
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: overrides.cookie ?? page.cookie ?? '',
      origin: overrides.origin ?? url.origin,
    },
    body: new URLSearchParams({ decision, comment, t: page.fields['t'] ?? '', csrf: page.fields['csrf'] ?? '' }),
  });
  return { status: res.status, html: await res.text() };
}

/** Approves a pending request from the emails, one distinct reviewer per required approval. */
export async function approveByEmail(plane: LocalControlPlane, clientId: string, reviewers: readonly string[]): Promise<void> {
  for (const [i, reviewer] of reviewers.entries()) {
    const mail = await awaitReviewEmail(plane, reviewer, clientId, i + 1);
    const result = await submitDecision(reviewLink(mail), 'approve', 'Looks right');
    expect(result.status).toBe(200);
  }
}
