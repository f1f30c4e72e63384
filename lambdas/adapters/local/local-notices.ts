import './polyfills.js';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateMachine } from 'aws-local-stepfunctions';
import type { Email, Mailer } from '../../core/ports.js';
import type { Log } from '../../core/services.js';
import { noticeInput } from '../aws/sfn-notice-mailer.js';
import { substitutedDefinition, validatedStateMachine } from './local-workflow.js';

/** The SES v2 SendEmail parameters the notice definition builds (only the fields it sets). */
interface SendEmailParameters {
  readonly Destination: { readonly ToAddresses: string[] };
  readonly Content: { readonly Simple: { readonly Subject: { readonly Data: string }; readonly Body: { readonly Text: { readonly Data: string } } } };
}

/** What SES's SDK integration fails with in Step Functions: `SesV2.<error>`, which the definition's Retry matches. */
class SesIntegrationError extends Error {
  constructor(cause: Error) {
    super(cause.message);
    this.name = `SesV2.${cause.name}`;
  }
}

/**
 * The `notice:send` Mailer port for local mode: runs the consumer-notice ASL file the stack deploys with
 * aws-local-stepfunctions, its SES task writing to `deliver` (the outbox) instead. As with StartExecution in AWS, `send`
 * returns once the execution has started; the notice arrives (or retries, or fails and is logged) on its own.
 */
export class LocalNoticeWorkflow implements Mailer {
  readonly #machine: StateMachine;
  /** What every execution runs with: the SES task writing to `deliver`, and the test's retry interval if any. */
  readonly #runOptions: NonNullable<Parameters<StateMachine['run']>[1]>;
  readonly #running = new Map<Promise<void>, () => void>();
  #closed = false;
  readonly #log: Log;
  readonly #dir: string | undefined;

  constructor(options: {
    readonly definitionFile: string;
    readonly substitutions: Readonly<Record<string, string>>;
    /** Where the SES task's email goes. */
    readonly deliver: Mailer;
    readonly log: Log;
    /** Replaces every retry interval (milliseconds), so a test can watch retries without waiting for them. */
    readonly retryIntervalMs?: number | undefined;
    /**
     * Where notices not yet delivered are kept (mode 0600 files), so a crash or a stop loses none: `resume()` runs them
     * again at the next start. In memory only when absent.
     */
    readonly dir?: string | undefined;
  }) {
    this.#dir = options.dir;
    if (this.#dir !== undefined) mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    const definition = substitutedDefinition<{ States: Record<string, { Type: string; Resource?: string }> }>(options.definitionFile, options.substitutions);
    this.#machine = validatedStateMachine(definition);
    this.#log = options.log;
    const sendEmail = async (input: unknown): Promise<unknown> => {
      const parameters = input as SendEmailParameters;
      const email: Email = {
        to: parameters.Destination.ToAddresses,
        subject: parameters.Content.Simple.Subject.Data,
        text: parameters.Content.Simple.Body.Text.Data,
      };
      // An aborted execution still runs the attempt its retry wait was cut short for: a closed plane delivers nothing.
      if (this.#closed) throw new Error('The local notice workflow is closed.');
      try {
        await options.deliver.send(email);
      } catch (error) {
        throw new SesIntegrationError(error as Error);
      }
      return { MessageId: `local-${Date.now()}` };
    };
    const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
    for (const [name, state] of tasks) {
      if (state.Resource !== 'arn:aws:states:::aws-sdk:sesv2:sendEmail') throw new Error(`Local mode runs no ${state.Resource} task (state ${name})`);
    }
    const retryIntervalMs = options.retryIntervalMs;
    this.#runOptions = {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(tasks.map(([name]) => [name, sendEmail])) as never,
        ...(retryIntervalMs === undefined ? {} : { retryIntervalOverrides: Object.fromEntries(tasks.map(([name]) => [name, retryIntervalMs])) }),
      },
    };
  }

  async send(email: Email): Promise<void> {
    if (this.#closed) throw new Error('The local notice workflow is closed.');
    // Written before the execution starts (as Step Functions holds an execution once StartExecution returns): a crash
    // from here on leaves the file, and the next start delivers it.
    const file = this.#dir === undefined ? undefined : join(this.#dir, `${Date.now()}-${randomUUID()}.json`);
    if (file !== undefined) {
      writeFileSync(`${file}.tmp`, JSON.stringify(email), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    }
    this.#start(email, file);
  }

  /** Starts again every notice a previous process accepted and never finished; returns how many. */
  resume(): number {
    if (this.#dir === undefined) return 0;
    let resumed = 0;
    for (const name of readdirSync(this.#dir).sort()) {
      const file = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        rmSync(file, { force: true }); // never accepted: send() had not returned
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let email: Email;
      try {
        email = JSON.parse(readFileSync(file, 'utf8')) as Email;
      } catch (error) {
        this.#log.error('unreadable pending notice skipped', { file, error: (error as Error).message });
        continue;
      }
      this.#start(email, file);
      resumed++;
    }
    return resumed;
  }

  #start(email: Email, file: string | undefined): void {
    const input = noticeInput(email);
    const execution = this.#machine.run(input as never, this.#runOptions);
    const done = execution.result.then(
      () => this.#finished(file),
      // A failed execution in AWS raises the NoticeFailures alarm; here it is an error line naming the recipients' count.
      (error: unknown) => {
        // A stopping plane abandons the notice, whose file the next start picks up.
        if (this.#closed) return;
        const failed = ((error as Error).cause ?? error) as Error;
        this.#log.error('consumer notice failed', { error: failed.name, recipients: input.to.length });
        this.#finished(file);
      },
    );
    this.#running.set(done, () => execution.abort());
    void done.finally(() => this.#running.delete(done));
  }

  #finished(file: string | undefined): void {
    if (file !== undefined) rmSync(file, { force: true });
  }

  /** Resolves when every notice started so far has been delivered or has failed (tests). */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.keys()]);
  }

  /** Stops the notices still retrying (the plane is shutting down) and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const abort of this.#running.values()) abort();
  }
}
