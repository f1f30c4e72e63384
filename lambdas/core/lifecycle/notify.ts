import type { Consumer } from '../consumer/consumer.js';
import type { Email } from '../ports.js';
import type { Needs } from '../services.js';

/**
 * Emails a consumer's contacts about a lifecycle change. In AWS the mailer hands the notice to the notice workflow, which
 * retries SES; a notice that could not even be handed over is logged, never turned into a second change.
 */
export async function notify(
  services: Needs<never, 'mailer'>,
  consumer: Pick<Consumer, 'clientId' | 'contacts'>,
  message: Pick<Email, 'subject' | 'text'>,
): Promise<void> {
  if (consumer.contacts.length === 0) return;
  try {
    await services.mailer.send({ to: consumer.contacts, ...message });
  } catch (error) {
    // The change stands (it is the control); operators see the lost notice in the logs.
    services.log.error('lifecycle notice not sent', { clientId: consumer.clientId, error: (error as Error).name });
  }
}

/** Policy reasons as lines of an email: `- code: message`. */
export function reasonLines(reasons: readonly { readonly code: string; readonly message: string }[]): string {
  return reasons.map((x) => `- ${x.code}: ${x.message}`).join('\n');
}
