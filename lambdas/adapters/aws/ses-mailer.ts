import { SendEmailCommand, SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import type { Email, Mailer } from '../../core/ports.js';
import { MAIL_FROM_ENV } from './env.js';
import { abortWithCaller } from './caller-abort.js';

export type SesMailerOptions =
  | { readonly from: string; readonly client: SESv2Client; readonly clientConfig?: never }
  | { readonly from: string; readonly clientConfig?: SESv2ClientConfig; readonly client?: never };

/** The Mailer port over SES v2: plain-text and HTML parts. */
export class SesMailer implements Mailer {
  readonly #from: string;
  readonly #client: SESv2Client;

  constructor(options: SesMailerOptions) {
    this.#from = options.from;
    this.#client = options.client ?? abortWithCaller(new SESv2Client(options.clientConfig ?? {}));
  }

  async send(email: Email): Promise<void> {
    await this.#client.send(
      new SendEmailCommand({
        FromEmailAddress: this.#from,
        Destination: { ToAddresses: [...email.to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: {
              Text: { Data: email.text, Charset: 'UTF-8' },
              ...(email.html === undefined ? {} : { Html: { Data: email.html, Charset: 'UTF-8' } }),
            },
          },
        },
      }),
    );
  }
}

/** The mailer of a function with `mail:send`, from the sender address the stack sets. */
export function sesMailerFromEnv(): SesMailer {
  return new SesMailer({ from: process.env[MAIL_FROM_ENV] ?? '' });
}
