import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Email, Mailer } from '../../core/ports.js';
import { terminalSafe } from './terminal-text.js';

/** Encodes a header value that may hold non-ASCII text (RFC 2047). */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Renders an email as an RFC 5322 message with text and (optional) HTML parts. */
export function renderEml(from: string, email: Email, date: Date): string {
  const boundary = `gatehouse-${randomUUID()}`;
  const head = [
    `From: ${from}`,
    `To: ${email.to.join(', ')}`,
    `Subject: ${encodeHeader(email.subject)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${randomUUID()}@gatehouse.local>`,
    'MIME-Version: 1.0',
  ];
  const part = (type: string, body: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=UTF-8`,
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n'),
    ].join('\r\n');
  const parts = [part('text/plain', email.text)];
  if (email.html !== undefined) parts.push(part('text/html', email.html));
  return [...head, `Content-Type: multipart/alternative; boundary="${boundary}"`, '', ...parts, `--${boundary}--`, ''].join('\r\n');
}

/** The Mailer port for local mode: each email becomes an `.eml` file in the outbox folder. */
export class OutboxMailer implements Mailer {
  readonly #dir: string;
  readonly #from: string;
  readonly #onSend: ((file: string, email: Email) => void) | undefined;

  constructor(options: { readonly dir: string; readonly from: string; readonly onSend?: (file: string, email: Email) => void }) {
    this.#dir = options.dir;
    this.#from = options.from;
    this.#onSend = options.onSend;
    // Review links in the outbox are bearer credentials: only the operator's user may read them.
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  async send(email: Email): Promise<void> {
    const now = new Date();
    const file = join(this.#dir, `${now.toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.eml`);
    writeFileSync(file, renderEml(this.#from, email, now), { mode: 0o600 });
    this.#onSend?.(file, email);
  }
}

/**
 * What `npm start` prints for each email sent: subject, recipients, file and, for a review request, its link. The link is
 * taken only from a line that holds nothing else (the real one comes first; a requester's text in the body is quoted and
 * so never forms such a line), and everything is escaped for the terminal.
 */
export function emailNotice(file: string, email: Email): string {
  const link = /^(https?:\/\/\S+\/reviews\/\S+)$/m.exec(email.text)?.[1];
  return `\n📧  ${terminalSafe(email.subject)}\n    to ${terminalSafe(email.to.join(', '))}\n    ${terminalSafe(file)}\n${link ? `    review link: ${terminalSafe(link)}\n` : ''}`;
}
