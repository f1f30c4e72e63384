import { SFNClient, StartExecutionCommand, type SFNClientConfig } from '@aws-sdk/client-sfn';
import type { Email, Mailer } from '../../core/ports.js';
import { ENV } from './env.js';
import { abortWithCaller } from './caller-abort.js';

/** The execution input of the consumer-notice state machine (statemachines/consumer-notice.asl.json). */
export interface NoticeInput {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

/**
 * A notice as the notice workflow takes it. Notices are plain text: the workflow has no HTML part, and an email with one
 * is refused here rather than sent without it.
 */
export function noticeInput(email: Email): NoticeInput {
  if (email.html !== undefined) throw new TypeError('The notice workflow sends plain-text notices; this email has an HTML part.');
  return { to: [...email.to], subject: email.subject, text: email.text };
}

export type NoticeWorkflowMailerOptions =
  | { readonly stateMachineArn: string; readonly client: SFNClient; readonly clientConfig?: never }
  | { readonly stateMachineArn: string; readonly clientConfig?: SFNClientConfig; readonly client?: never };

/**
 * The Mailer port of the functions that tell consumers about lifecycle changes (`notice:send`): each notice starts an
 * execution of the consumer-notice state machine, which sends it through SES and retries what SES may accept later.
 * `send` resolves once Step Functions holds the notice, not once SES has it: a notice SES refuses for good fails its
 * execution (and raises the NoticeFailures alarm) instead of failing the change it reports.
 */
export class NoticeWorkflowMailer implements Mailer {
  readonly #arn: string;
  readonly #client: SFNClient;

  constructor(options: NoticeWorkflowMailerOptions) {
    this.#arn = options.stateMachineArn;
    this.#client = options.client ?? abortWithCaller(new SFNClient(options.clientConfig ?? {}));
  }

  async send(email: Email): Promise<void> {
    await this.#client.send(new StartExecutionCommand({ stateMachineArn: this.#arn, input: JSON.stringify(noticeInput(email)) }));
  }
}

/** The mailer of a function with `notice:send`, from the notice state machine ARN the stack sets. */
export function noticeMailerFromEnv(): NoticeWorkflowMailer {
  return new NoticeWorkflowMailer({ stateMachineArn: process.env[ENV.noticeStateMachineArn] ?? '' });
}
