import { GatehouseError } from '../errors.js';

/**
 * A review email that could not be sent (mail service throttled, down or refusing; the local outbox unwritable). It
 * never ends a review: the review state machine retries the step that threw it for about a day with growing waits
 * (`Gatehouse.MailUnavailable` in statemachines/onboarding.asl.json), and every failure is logged at ERROR with the
 * request's ids, which raises the function's fault alarm.
 */
export class MailUnavailable extends GatehouseError<'mail_unavailable'> {
  override readonly name = 'Gatehouse.MailUnavailable';

  constructor(message: string, options?: { cause?: unknown }) {
    super('mail_unavailable', message, options);
  }
}

/** The name and message of a mail failure, for a log line (never the recipients' addresses or the email's links). */
export function mailFailure(error: unknown): { readonly error: string; readonly message: string } {
  return { error: (error as Error)?.name ?? 'Error', message: String((error as Error)?.message ?? error).slice(0, 300) };
}
