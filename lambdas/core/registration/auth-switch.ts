import type { Consumer } from '../consumer/consumer.js';
import { DEFAULT_KEY_ROLLOVER_GRACE_HOURS, retireKeys } from '../consumer/keys.js';
import type { TransitionRequest } from '../consumer/transition.js';
import { notify } from '../lifecycle/notify.js';
import type { Decision } from '../policy/evaluate.js';
import type { AuthMethod } from '../policy/levels.js';
import type { LoadedPolicy } from '../policy/load.js';
import { secretGraceMs } from '../rotation/client-secret-rotation.js';
import type { Needs } from '../services.js';

/**
 * How an update changes the client's credential: not at all, between the two ways of sending a secret (the same
 * credential, applied at once), from a secret to keys, or from keys to a new secret.
 */
export type CredentialSwitch = 'none' | 'secret_method' | 'to_key' | 'to_secret';

const usesKeys = (m: AuthMethod): boolean => m === 'private_key_jwt';

/** The credential change an update from `from` to `to` makes. */
export function credentialSwitch(from: AuthMethod, to: AuthMethod): CredentialSwitch {
  if (from === to) return 'none';
  if (usesKeys(from) === usesKeys(to)) return 'secret_method';
  return usesKeys(to) ? 'to_key' : 'to_secret';
}

/** The policy reasons that are about the client authentication method (the tier's or the risk's allowed methods). */
export function authMethodRefusals(decision: Pick<Decision, 'outcome' | 'reasons'>): Decision['reasons'] {
  if (decision.outcome !== 'deny') return [];
  return decision.reasons.filter((r) => r.code === 'auth_method_not_allowed_for_tier' || r.code === 'auth_method_too_weak');
}

type ConsumerSet = NonNullable<TransitionRequest['set']>;

/**
 * The consumer fields of a move from a client secret to keys: the current secret becomes the previous one, accepted for
 * the deployed policy's secret grace window (the one a rotation gives), and no secret is current any more. A secret
 * reported compromised gets no grace, as in a rotation. A secret already in a rotation's grace window ends now: one
 * retired secret is kept, the one the client most likely still uses.
 */
export function retireSecretSet(consumer: Consumer, policy: LoadedPolicy, now: Date): ConsumerSet & { readonly previousSecretExpiresAt: string | undefined } {
  const compromised = consumer.secretCompromisedAt !== undefined || consumer.secretHash === undefined;
  return {
    secretHash: undefined,
    secretExpiresAt: undefined,
    pendingSecretHash: undefined,
    secretCompromisedAt: undefined,
    secretRotatedAt: undefined,
    previousSecretHash: compromised ? undefined : consumer.secretHash,
    previousSecretExpiresAt: compromised ? undefined : new Date(now.getTime() + secretGraceMs({ policy }, consumer)).toISOString(),
  };
}

/**
 * The consumer fields of a move from keys to a new client secret: the secret (its hash) is current until the grant ends,
 * as at registration, and every registered key is retired for the key rollover grace, as a key an update removes.
 */
export function issueSecretSet(
  consumer: Consumer,
  secretHash: string,
  expiresAt: string,
  policy: LoadedPolicy,
  now: Date,
): ConsumerSet & { readonly retiredKeys: Consumer['retiredKeys'] } {
  const grace = policy.document.clientAssertions.keyRolloverGraceHours ?? DEFAULT_KEY_ROLLOVER_GRACE_HOURS;
  return {
    secretHash,
    secretExpiresAt: expiresAt,
    pendingSecretHash: undefined,
    previousSecretHash: undefined,
    previousSecretExpiresAt: undefined,
    secretCompromisedAt: undefined,
    // Local mode's rotation schedule counts from here; in AWS the new secret's rotation rules count from its creation.
    secretRotatedAt: now.toISOString(),
    jwks: undefined,
    jwksUri: undefined,
    retiredKeys: retireKeys(consumer, [], now, grace),
  };
}

/**
 * Tells a consumer's contacts that its client authentication changed (never with a secret in it): a credential moved is
 * what an attacker holding the registration access token would do, so its owners must hear of it.
 */
export async function noticeAuthMethodChange(
  services: Needs<never, 'mailer'>,
  consumer: Pick<Consumer, 'clientId' | 'clientName' | 'contacts'>,
  from: AuthMethod,
  to: AuthMethod,
  oldCredentialUntil: string | undefined,
): Promise<void> {
  const name = `${consumer.clientName} (${consumer.clientId})`;
  const old = usesKeys(from) ? 'The keys registered before' : 'The previous client secret';
  const until =
    oldCredentialUntil === undefined
      ? `${old} no longer work${usesKeys(from) ? '' : 's'}.`
      : `${old} keep${usesKeys(from) ? '' : 's'} working until ${oldCredentialUntil}; switch before then.`;
  await notify(services, consumer, {
    subject: `[Gatehouse] Client authentication changed for ${consumer.clientName}: ${to}`,
    text: [
      `The client authentication of the API consumer ${name} was changed from ${from} to ${to}, through an update of its registration.`,
      usesKeys(from) === usesKeys(to) ? 'The client secret is unchanged; only the way it is sent changed, at once.' : until,
      'This email never contains a secret. If you did not make or expect this change, tell the bank’s API team at once.',
    ].join('\n'),
  });
}
