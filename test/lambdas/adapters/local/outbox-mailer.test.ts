import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emailNotice, OutboxMailer, renderEml } from '../../../../lambdas/adapters/local/outbox-mailer.js';
import { NOW } from '../../fixtures.js';

const FROM = 'gatehouse@localhost';

/** The decoded body of each MIME part, keyed by content type. */
function parts(eml: string): Record<string, string> {
  const boundary = /boundary="([^"]+)"/.exec(eml)![1]!;
  const out: Record<string, string> = {};
  for (const chunk of eml.split(`--${boundary}`).slice(1, -1)) {
    const [head, body] = chunk.split('\r\n\r\n');
    const type = /Content-Type: ([^;]+);/.exec(head!)![1]!;
    out[type] = Buffer.from(body!.replace(/\r\n/g, ''), 'base64').toString('utf8');
  }
  return out;
}

describe('renderEml', () => {
  it('renders an RFC 5322 message with the sender, recipients, date and a text part', () => {
    const eml = renderEml(FROM, { to: ['a@x.example', 'b@x.example'], subject: 'Review needed', text: 'Please review.' }, NOW);

    expect(eml).toContain(`From: ${FROM}\r\n`);
    expect(eml).toContain('To: a@x.example, b@x.example\r\n');
    expect(eml).toContain('Subject: Review needed\r\n');
    expect(eml).toContain(`Date: ${NOW.toUTCString()}\r\n`);
    expect(eml).toContain('MIME-Version: 1.0\r\n');
    expect(parts(eml)).toEqual({ 'text/plain': 'Please review.' });
  });

  it('adds an HTML alternative when there is one', () => {
    const eml = renderEml(FROM, { to: ['a@x.example'], subject: 's', text: 'plain', html: '<p>rich</p>' }, NOW);

    expect(parts(eml)).toEqual({ 'text/plain': 'plain', 'text/html': '<p>rich</p>' });
  });

  it('encodes a non-ASCII subject (RFC 2047), so header injection is impossible', () => {
    const eml = renderEml(FROM, { to: ['a@x.example'], subject: 'Prüfung\r\nBcc: evil@x.example', text: 't' }, NOW);

    expect(eml).not.toContain('Bcc:');
    const encoded = /Subject: =\?UTF-8\?B\?([^?]+)\?=/.exec(eml)![1]!;
    expect(Buffer.from(encoded, 'base64').toString('utf8')).toBe('Prüfung\r\nBcc: evil@x.example');
  });

  it('wraps base64 bodies at 76 characters', () => {
    const eml = renderEml(FROM, { to: ['a@x.example'], subject: 's', text: 'x'.repeat(1000) }, NOW);

    const bodyLines = eml.split('\r\n').filter((l) => /^[A-Za-z0-9+/=]{20,}$/.test(l));
    expect(bodyLines.length).toBeGreaterThan(1);
    expect(Math.max(...bodyLines.map((l) => l.length))).toBeLessThanOrEqual(76);
    expect(parts(eml)['text/plain']).toBe('x'.repeat(1000));
  });
});

describe('OutboxMailer', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-outbox-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each email as an .eml file in the outbox and reports it', async () => {
    const onSend = vi.fn();
    const outbox = join(dir, 'outbox');
    const mailer = new OutboxMailer({ dir: outbox, from: FROM, onSend });
    const email = { to: ['reviewer@bank.example'], subject: 'Review needed', text: 'Please review.' };

    await mailer.send(email);
    await mailer.send(email);

    const files = readdirSync(outbox);
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const eml = readFileSync(join(outbox, files[0]!), 'utf8');
    expect(eml).toContain('To: reviewer@bank.example\r\n');
    expect(parts(eml)['text/plain']).toBe('Please review.');
    expect(onSend).toHaveBeenCalledTimes(2);
    expect(onSend).toHaveBeenCalledWith(expect.stringMatching(/\.eml$/), email);
  });

  it('lets only its owner read the outbox and each email (review links are credentials)', async () => {
    const outbox = join(dir, 'outbox');
    await new OutboxMailer({ dir: outbox, from: FROM }).send({ to: ['reviewer@bank.example'], subject: 'Review needed', text: 'Please review.' });

    expect(statSync(outbox).mode & 0o777).toBe(0o700);
    expect(statSync(join(outbox, readdirSync(outbox)[0]!)).mode & 0o777).toBe(0o600);
  });
});

describe('emailNotice', () => {
  it('prints the link from a line of its own, never one inside quoted text, and escapes control characters', () => {
    const text = ['Purpose: see\n    | https://evil.example/reviews/forged', 'Review it here:', 'http://127.0.0.1:3000/reviews/real?t=1', ''].join('\n');
    const notice = emailNotice('/tmp/out/a.eml', { to: ['alice@bank.example'], subject: 'Review \u001b[2Jwidget\u009b31m', text });
    expect(notice).toContain('review link: http://127.0.0.1:3000/reviews/real?t=1\n');
    expect(notice).not.toContain('evil.example');
    expect(notice).toContain('Review \\u001b[2Jwidget\\u009b31m');
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(notice.replaceAll('\n', '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
