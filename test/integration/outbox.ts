import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OutboxMail {
  readonly file: string;
  readonly to: string[];
  readonly subject: string;
  readonly text: string;
  readonly html: string | undefined;
}

function decodeHeader(value: string): string {
  const m = /^=\?UTF-8\?B\?(.+)\?=$/.exec(value);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : value;
}

/** Reads every .eml file in the outbox, decoding the text and HTML parts. */
export function readOutbox(dir: string): OutboxMail[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => {
      const raw = readFileSync(join(dir, f), 'utf8');
      const [head, ...rest] = raw.split('\r\n\r\n');
      const headers = Object.fromEntries(head!.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const boundary = /boundary="([^"]+)"/.exec(headers['content-type'] ?? '')![1]!;
      const parts = rest.join('\r\n\r\n').split(`--${boundary}`).slice(1, -1);
      const part = (type: string) => {
        const p = parts.find((x) => x.includes(`Content-Type: ${type}`));
        return p === undefined ? undefined : Buffer.from(p.split('\r\n\r\n')[1]!.replace(/\s+/g, ''), 'base64').toString('utf8');
      };
      return {
        file: f,
        to: (headers['to'] ?? '').split(', '),
        subject: decodeHeader(headers['subject'] ?? ''),
        text: part('text/plain') ?? '',
        html: part('text/html'),
      };
    });
}

/** The review links in an email, one per reviewer email. */
export function reviewLink(mail: OutboxMail): string {
  const m = /(http:\/\/\S+\/reviews\/\S+)/.exec(mail.text);
  if (!m) throw new Error(`no review link in ${mail.subject}`);
  return m[1]!;
}
