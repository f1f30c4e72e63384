import { routeUrl } from '../../contracts/routes.js';
import type { Actor } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { transition } from '../consumer/transition.js';
import type { ClientSecretValue, Email, StagedSecret } from '../ports.js';
import type { Needs, Services } from '../services.js';
import { randomToken, secretMatchesHash, sha256B64u } from '../util/hash.js';
import { RotationError } from './errors.js';
import { ROTATION_STEPS, stepTarget, type RotationStep } from './steps.js';

/** What a client-secret rotation reads and writes: the consumer's record and a notice to its contacts. */
export type RotationServices = Needs<'getConsumer' | 'updateConsumer', 'mailer'>;

const ROTATOR: Actor = { kind: 'system', id: 'client-secret-rotation' };
const DAY_MS = 86_400_000;

/** Statuses whose secret is still rotated: a suspended consumer may be reinstated and must not come back with a stale one. */
const ROTATABLE: ReadonlySet<Consumer['status']> = new Set(['active', 'suspended']);

/** Parses what a client-secret secret holds; a value that is not one is refused, never guessed at. */
export function parseClientSecretValue(text: string | undefined): ClientSecretValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    parsed = undefined;
  }
  const value = parsed as Partial<ClientSecretValue> | undefined;
  if (typeof value?.clientId !== 'string' || typeof value.clientSecret !== 'string' || value.clientSecret.length < 32) {
    throw new RotationError('test_failed', 'The secret does not hold a Gatehouse client secret ({"clientId", "clientSecret"}).');
  }
  return { clientId: value.clientId, clientSecret: value.clientSecret };
}

/** The grace window the deployed policy gives a consumer's risk (the policy in force, not the one frozen at approval). */
export function secretGraceMs(services: Pick<Services, 'policy'>, consumer: Pick<Consumer, 'risk'>): number {
  return services.policy.document.risks[consumer.risk].secretGraceDays * DAY_MS;
}

/**
 * Whether a consumer's client secret is due for its scheduled rotation under the deployed policy (what Secrets Manager's
 * rotation rules do in AWS; local mode's schedule asks this).
 */
export function clientSecretRotationDue(services: Pick<Services, 'policy'>, consumer: Consumer, now: Date): boolean {
  if (consumer.secretHash === undefined || !ROTATABLE.has(consumer.status)) return false;
  const since = Date.parse(consumer.secretRotatedAt ?? consumer.createdAt);
  return now.getTime() >= since + services.policy.document.risks[consumer.risk].secretRotationDays * DAY_MS;
}

/**
 * One step of Secrets Manager's rotation protocol for a consumer's client secret. The registry keeps hashes only:
 * - createSecret stores a new random secret as AWSPENDING;
 * - setSecret records its hash as the consumer's pending secret (accepted from now on, so the switch cannot break);
 * - testSecret checks the registry accepts the pending secret and still accepts the current one;
 * - finishSecret moves AWSCURRENT to it, then makes it the consumer's secret in the registry, keeps the old one working
 *   for the policy's grace window, and tells the contacts where to fetch it (the value never leaves the store).
 * Every step is idempotent; a step that fails leaves AWSCURRENT, and the secret the consumer uses, as they were.
 */
export async function rotateClientSecret(step: RotationStep, token: string, secret: StagedSecret, services: RotationServices): Promise<void> {
  const target = await stepTarget(secret, step, token);
  const { log } = services;
  if (target.alreadyCurrent) {
    // A finishSecret retried after the stage moved but before the registry did still completes the registry side.
    if (step === 'finishSecret') await completeInRegistry(token, secret, services);
    else log.info('rotation step skipped: version already current', { step, version: token });
    return;
  }
  if (step === 'testSecret' && (await secret.read({ versionId: token })) === undefined) {
    // Secrets Manager's check when rotation is turned on without rotating (at registration, possibly before the consumer
    // is written): a pending version with no value. Nothing to test; finishSecret never promotes a version without one.
    log.info('rotation configuration test: pending version holds no value', { version: token });
    return;
  }
  const current = parseClientSecretValue(await secret.read({ versionId: target.currentVersionId }));
  const consumer = await services.consumers.getConsumer(current.clientId);
  if (!consumer) throw new RotationError('consumer_not_rotatable', `No consumer ${current.clientId} holds this secret.`);

  switch (step) {
    case 'createSecret': {
      if ((await secret.read({ versionId: token })) !== undefined) return;
      if (!ROTATABLE.has(consumer.status)) {
        throw new RotationError('consumer_not_rotatable', `Consumer ${consumer.clientId} is ${consumer.status}; its secret is due for deletion, not rotation.`);
      }
      if (consumer.secretHash === undefined) {
        // A consumer moved to private_key_jwt: a secret rotated in would be a credential it no longer has a use for.
        throw new RotationError(
          'consumer_not_rotatable',
          `Consumer ${consumer.clientId} authenticates with ${consumer.authMethod}; its secret is due for deletion.`,
        );
      }
      const now = services.clock.now();
      if (consumer.previousSecretExpiresAt !== undefined && Date.parse(consumer.previousSecretExpiresAt) > now.getTime()) {
        throw new RotationError(
          'rotation_too_soon',
          `The previous secret of ${consumer.clientId} works until ${consumer.previousSecretExpiresAt}; rotating again now would cut its grace window short.`,
        );
      }
      const value: ClientSecretValue = { clientId: consumer.clientId, clientSecret: randomToken() };
      await secret.putPending(token, JSON.stringify(value));
      log.info('client secret created', { clientId: consumer.clientId, version: token });
      return;
    }
    case 'setSecret': {
      const pending = parseClientSecretValue(await secret.read({ versionId: token }));
      checkOwner(pending, consumer);
      const hash = sha256B64u(pending.clientSecret);
      if (consumer.pendingSecretHash === hash || consumer.secretHash === hash) return;
      await transition(services, {
        clientId: consumer.clientId,
        to: undefined,
        event: 'credentials.rotation_started',
        actor: ROTATOR,
        data: { kind: 'client_secret', version: token },
        set: { pendingSecretHash: hash },
      });
      log.info('client secret staged in the registry', { clientId: consumer.clientId, version: token });
      return;
    }
    case 'testSecret': {
      const pending = parseClientSecretValue(await secret.read({ versionId: token }));
      checkOwner(pending, consumer);
      if (consumer.pendingSecretHash === undefined || !secretMatchesHash(pending.clientSecret, consumer.pendingSecretHash)) {
        throw new RotationError('test_failed', `The registry does not accept the pending secret of ${consumer.clientId}; setSecret has not run.`);
      }
      if (consumer.secretHash === undefined || !secretMatchesHash(current.clientSecret, consumer.secretHash)) {
        throw new RotationError('test_failed', `The registry no longer accepts the current secret of ${consumer.clientId}.`);
      }
      return;
    }
    case 'finishSecret': {
      const pending = parseClientSecretValue(await secret.read({ versionId: token }));
      checkOwner(pending, consumer);
      if (consumer.pendingSecretHash === undefined || !secretMatchesHash(pending.clientSecret, consumer.pendingSecretHash)) {
        throw new RotationError('test_failed', `Version ${token} is not the pending secret the registry accepts; AWSCURRENT stays where it is.`);
      }
      await secret.promote(token, target.currentVersionId);
      log.info('client secret promoted', { clientId: consumer.clientId, version: token, previous: target.currentVersionId });
      await completeInRegistry(token, secret, services);
      return;
    }
    default:
      throw new RotationError('unknown_step', `Unknown rotation step ${String(step)}`);
  }
}

function checkOwner(value: ClientSecretValue, consumer: Consumer): void {
  if (value.clientId !== consumer.clientId) {
    throw new RotationError('test_failed', `The pending version belongs to ${value.clientId}, not ${consumer.clientId}.`);
  }
}

/**
 * The registry side of finishSecret, once AWSCURRENT holds the new secret: it becomes the consumer's secret, the old one
 * works for the grace window, and the contacts are told. Does nothing when the registry already has it.
 */
async function completeInRegistry(token: string, secret: StagedSecret, services: RotationServices): Promise<void> {
  const value = parseClientSecretValue(await secret.read({ versionId: token }));
  const consumer = await services.consumers.getConsumer(value.clientId);
  if (!consumer) throw new RotationError('consumer_not_rotatable', `No consumer ${value.clientId} holds this secret.`);
  const hash = sha256B64u(value.clientSecret);
  if (consumer.secretHash === hash) return;
  if (consumer.pendingSecretHash !== hash) {
    throw new RotationError('test_failed', `The current secret of ${consumer.clientId} is not the one the registry staged.`);
  }
  const now = services.clock.now();
  const compromised = consumer.secretCompromisedAt !== undefined;
  // After a reported compromise the old secret gets no grace window: it already stopped working when it was reported.
  const previousValidUntil = compromised ? now.toISOString() : new Date(now.getTime() + secretGraceMs(services, consumer)).toISOString();
  const updated = await transition(services, {
    clientId: consumer.clientId,
    to: undefined,
    event: 'credentials.rotated',
    actor: ROTATOR,
    data: { kind: 'client_secret', version: token, previousValidUntil, ...(compromised ? { compromised: true } : {}) },
    set: {
      secretHash: hash,
      pendingSecretHash: undefined,
      previousSecretHash: compromised ? undefined : consumer.secretHash,
      previousSecretExpiresAt: compromised ? undefined : previousValidUntil,
      secretCompromisedAt: undefined,
      secretRotatedAt: now.toISOString(),
    },
  });
  services.log.info('client secret rotated', { clientId: consumer.clientId, version: token, previousValidUntil });
  try {
    await services.mailer.send(rotationNotice(updated, services.config.issuer, previousValidUntil, compromised));
  } catch (error) {
    // The rotation stands and the old secret works through the grace window; the consumer can fetch the new one anyway.
    services.log.error('client secret rotation notice not sent', { clientId: consumer.clientId, error: (error as Error).name });
  }
}

/** The notice to a consumer's contacts: where to fetch the new secret, and until when the old one works. Never the secret. */
export function rotationNotice(consumer: Consumer, issuer: string, previousValidUntil: string, compromised = false): Email {
  const uri = routeUrl(issuer, 'readRegistration', { client_id: consumer.clientId });
  if (compromised) {
    return {
      to: consumer.contacts,
      subject: `[Gatehouse] Client secret replaced after a reported compromise for ${consumer.clientName}`,
      text: [
        `The bank's operators reported the client secret of ${consumer.clientName} (${consumer.clientId}) compromised and replaced it.`,
        'The previous secret and your previous registration access token stopped working at once.',
        '',
        'Ask the bank’s API security team for your new registration access token, then fetch the new secret (RFC 7592):',
        `  GET ${uri}`,
        '  Authorization: Bearer <new registration access token>',
        'This email never contains a secret. If you did not expect it, contact the bank’s API security team.',
      ].join('\n'),
    };
  }
  const text = [
    `The client secret of ${consumer.clientName} (${consumer.clientId}) was rotated.`,
    '',
    `Fetch the new secret with your registration access token (RFC 7592):`,
    `  GET ${uri}`,
    '  Authorization: Bearer <registration access token>',
    'The response carries it in client_secret.',
    '',
    `The previous secret keeps working until ${previousValidUntil}; switch before then.`,
    'This email never contains a secret. If you did not expect it, contact the bank’s API security team.',
  ].join('\n');
  return {
    to: consumer.contacts,
    subject: `[Gatehouse] Client secret rotated for ${consumer.clientName}: fetch the new one before ${previousValidUntil}`,
    text,
  };
}

/** Runs the four steps in order, as Secrets Manager does (local mode and tests). */
export async function rotateClientSecretFully(token: string, secret: StagedSecret, services: RotationServices): Promise<void> {
  for (const step of ROTATION_STEPS) await rotateClientSecret(step, token, secret, services);
}
