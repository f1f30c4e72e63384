import type { Consumer } from '../consumer/consumer.js';
import { retireKeys, DEFAULT_KEY_ROLLOVER_GRACE_HOURS } from '../consumer/keys.js';
import type { TransitionRequest } from '../consumer/transition.js';
import { notify } from '../lifecycle/notify.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { ProposedRegistration } from '../requests/change-request.js';
import type { Needs } from '../services.js';
import type { RegistrationDraft } from './classify.js';

/** The policy's decision an update carries when it raised risk (an update that narrows access keeps the consumer's). */
export type UpdateDecision = Pick<ProposedRegistration, 'risk' | 'requirements' | 'policyVersion' | 'decisionReasons'>;

/**
 * The consumer fields an update writes: the new registration, keys it removed kept for the rollover grace, the revision
 * counted, and the secret's end moved with the grant's (a secret never outlives its grant, nor ends before it).
 */
export function registrationSet(
  consumer: Consumer,
  draft: RegistrationDraft,
  decision: UpdateDecision | undefined,
  now: Date,
  policy: LoadedPolicy,
): NonNullable<TransitionRequest['set']> {
  const grace = policy.document.clientAssertions.keyRolloverGraceHours ?? DEFAULT_KEY_ROLLOVER_GRACE_HOURS;
  return {
    clientName: draft.clientName,
    scopes: draft.scopes,
    purpose: draft.purpose,
    dataClasses: draft.dataClasses,
    contacts: draft.contacts,
    expiresAt: draft.expiresAt,
    authMethod: draft.authMethod,
    jwks: draft.jwks,
    jwksUri: draft.jwksUri,
    retiredKeys: retireKeys(consumer, draft.jwks?.keys, now, grace),
    softwareId: draft.softwareId,
    dpopBoundAccessTokens: draft.dpopBoundAccessTokens,
    registrationRevision: (consumer.registrationRevision ?? 0) + 1,
    ...(consumer.secretHash !== undefined ? { secretExpiresAt: draft.expiresAt } : {}),
    ...(decision ?? {}),
  };
}

/**
 * Tells the contacts of a consumer that its contact list changed: the addresses added learn they now answer for it, and
 * the previous contacts learn who does now, so a contact list cannot be taken over silently.
 */
export async function noticeContactsChange(services: Needs<never, 'mailer'>, before: Consumer, contacts: readonly string[]): Promise<void> {
  const added = contacts.filter((c) => !before.contacts.includes(c));
  const removed = before.contacts.filter((c) => !contacts.includes(c));
  if (added.length === 0 && removed.length === 0) return;
  const name = `${before.clientName} (${before.clientId})`;
  await notify(
    services,
    { clientId: before.clientId, contacts: added },
    {
      subject: `[Gatehouse] You are now a contact for ${before.clientName}`,
      text: `This address was named as a contact of the API consumer ${name}, through an update of its registration.\nContacts now: ${contacts.join(', ')}.\nIf you did not expect this, tell the bank's API team.`,
    },
  );
  await notify(services, before, {
    subject: `[Gatehouse] Contacts changed for ${before.clientName}`,
    text: `The contacts of the API consumer ${name} were changed through an update of its registration.\nBefore: ${before.contacts.join(', ') || 'none'}.\nNow: ${contacts.join(', ') || 'none'}.\nIf you did not make or expect this change, tell the bank's API team at once.`,
  });
}
