import type { Actor } from '../audit/event.js';
import type { Consumer, ConsumerStatus } from '../consumer/consumer.js';
import { isSigningKey } from '../consumer/keys.js';
import { applyTransition } from '../consumer/transition.js';
import type { RegistrationUpdateOutcome } from '../metrics.js';
import { forgetConsumerEverywhere } from '../oauth/consumer-cache.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import { openRequest } from '../requests/open-request.js';
import type { Needs } from '../services.js';
import { randomToken, secretMatchesHash, sha256B64u } from '../util/hash.js';
import { authorizeRegistration } from './access-token.js';
import { noticeContactsChange, registrationSet, type UpdateDecision } from './apply-update.js';
import { authMethodRefusals, credentialSwitch, issueSecretSet, noticeAuthMethodChange, retireSecretSet, type CredentialSwitch } from './auth-switch.js';
import { decideAccess, verifyMetadata, type VerifiedMetadata } from './assess.js';
import { checkPublishedKeys } from './key-source.js';
import type { RemoteKeySets } from '../ports/remote-key-sets.js';
import { classifyUpdate, type RegistrationDraft } from './classify.js';
import { RegistrationDeniedError, RegistrationError } from './errors.js';
import { parseClientMetadata, type ClientMetadata } from './metadata.js';
import { updateRequestBody } from './read.js';
import { checkSeparationOfDuties, storeClientSecret } from './register.js';
import { registrationResponse } from './response.js';

/** What an RFC 7592 update touches: the consumer and its requests, the review workflow, and the contacts' mail. */
export type UpdateServices = Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'workflow' | 'mailer' | 'clientSecrets'>;

export interface UpdateResult {
  /** 200: applied; 202: an update request awaits review, the registration is unchanged until it is approved. */
  readonly statusCode: 200 | 202;
  readonly body: Readonly<Record<string, unknown>>;
}

const UPDATABLE: readonly ConsumerStatus[] = ['active', 'suspended'];

/** The answer of an update that lost to a concurrent change of the same registration. */
export function updateConflict(): RegistrationError {
  return new RegistrationError(
    'update_conflict',
    'The registration changed while this request ran (another update, read or delete replaced the registration access token); nothing was changed.',
  );
}

/**
 * RFC 7592 update: the body replaces the registration (section 2.2), once the registration access token is checked. A
 * change that narrows access or only changes who and what is on record applies at once; one that extends access or
 * weakens a control goes to the deployed policy as a registration would: `auto` applies at once, `review` opens an update request (202; the consumer keeps its current
 * grant until reviewers approve), `deny` changes nothing. Every accepted update replaces the registration access token,
 * in the same transaction as the change and its audit event; a concurrent update of the same registration loses with
 * `update_conflict`, since the token it presented is gone.
 */
export async function updateRegistration(
  services: UpdateServices,
  clientId: string,
  bearer: string | undefined,
  readBody: () => Readonly<Record<string, unknown>>,
  keySets?: RemoteKeySets,
): Promise<UpdateResult> {
  try {
    const result = await update(services, clientId, bearer, readBody, keySets);
    services.metrics.record('RegistrationUpdates', { outcome: result.statusCode === 200 ? 'applied' : 'review' });
    return result;
  } catch (error) {
    const outcome = refusalOutcome(error);
    if (outcome !== undefined) services.metrics.record('RegistrationUpdates', { outcome });
    throw error;
  }
}

/** The outcome a refused update counts as; none for a caller without the token or a malformed body, which updated nothing to count. */
function refusalOutcome(error: unknown): RegistrationUpdateOutcome | undefined {
  if (error instanceof RegistrationDeniedError) return 'denied';
  if (error instanceof RegistrationError && error.code === 'update_conflict') return 'conflict';
  return undefined;
}

async function update(
  services: UpdateServices,
  clientId: string,
  bearer: string | undefined,
  readBody: () => Readonly<Record<string, unknown>>,
  keySets: RemoteKeySets | undefined,
): Promise<UpdateResult> {
  const consumer = await authorizeRegistration(services, clientId, bearer);
  // The body is read only for the owner (a caller without the token learns nothing from it), and validated exactly as a
  // registration's metadata is.
  const body = readBody();
  const m = parseClientMetadata(body);
  const input = { clientId: body['client_id'], clientSecret: body['client_secret'] };
  if (input.clientId !== clientId) {
    throw new RegistrationError('invalid_client_metadata', 'client_id must be the client identifier of this registration (RFC 7592 section 2.2).', {
      field: 'client_id',
    });
  }
  if (input.clientSecret !== undefined) {
    // RFC 7592 section 2.2: a client_secret sent must be the one issued; a client never chooses its own.
    const matches = typeof input.clientSecret === 'string' && consumer.secretHash !== undefined && secretMatchesHash(input.clientSecret, consumer.secretHash);
    if (!matches) {
      throw new RegistrationError(
        'invalid_client_metadata',
        'client_secret must be the secret issued to this client, or left out; a client cannot set its own.',
        {
          field: 'client_secret',
        },
      );
    }
  }
  if (!UPDATABLE.includes(consumer.status)) {
    const when = consumer.status === 'pending_review' ? ' until its review ends' : '';
    throw new RegistrationError('update_conflict', `A ${consumer.status.replace('_', ' ')} registration cannot be updated${when}.`);
  }
  if (consumer.updateRequestId !== undefined) {
    const pending = await services.requests.getRequest(clientId, consumer.updateRequestId);
    if (pending?.status === 'pending_review') {
      throw new RegistrationError('update_conflict', `An update of this registration is under review (${pending.requestId}); send another once it is decided.`);
    }
  }
  const now = services.clock.now();
  if (m.tier !== undefined && m.tier !== consumer.tier) {
    throw new RegistrationError('invalid_client_metadata', `tier cannot change (it is ${consumer.tier}); register again for another tier.`, { field: 'tier' });
  }
  const credential = credentialSwitch(consumer.authMethod, m.token_endpoint_auth_method);
  const metadata: ClientMetadata = { ...m, tier: consumer.tier };
  const verified = await verifyMetadata(services, metadata, now);
  checkCredentialSwitch(consumer, metadata, credential);
  const draft = draftOf(consumer, metadata, verified, now);
  // A new key location is fetched once, as at registration, so an update cannot point the client at keys nobody serves.
  if (draft.jwksUri !== undefined && draft.jwksUri !== consumer.jwksUri) await checkPublishedKeys(keySets, draft.jwksUri, metadata.jwks_uri === undefined);

  const changes = classifyUpdate(consumer, draft);
  const texts = changes.map((c) => c.text);
  const actor: Actor = { kind: 'consumer', id: clientId };
  if (!changes.some((c) => c.raises)) {
    if (credential !== 'none') {
      // A stronger or equal method needs no review, but it must still be one the tier and the consumer's risk allow.
      const decision = decideAccess(services, metadata, verified, now);
      const refused = authMethodRefusals(decision);
      if (refused.length > 0) {
        services.log.warn('registration update denied', { clientId, policyVersion: decision.policyVersion, reasons: refused.map((r) => r.code) });
        throw new RegistrationDeniedError({ ...decision, reasons: refused });
      }
    }
    checkSeparationOfDuties(services, consumer.tier, draft.contacts, {
      outcome: 'auto',
      risk: consumer.risk,
      requirements: consumer.requirements,
      reasons: [],
      policyVersion: consumer.policyVersion,
    });
    return applyUpdate(services, consumer, draft, undefined, texts, 'narrows', actor, credential);
  }

  const decision = decideAccess(services, metadata, verified, now);
  if (decision.outcome === 'deny') {
    services.log.warn('registration update denied', { clientId, policyVersion: decision.policyVersion, reasons: decision.reasons.map((r) => r.code) });
    throw new RegistrationDeniedError(decision);
  }
  if (decision.outcome === 'review' && (credential === 'to_key' || credential === 'to_secret')) {
    // The credential moves when the update applies, and its new secret is handed over in that answer: a review's
    // approval happens later, in a function that holds no client secret, and its answer reaches nobody.
    throw new RegistrationError(
      'invalid_client_metadata',
      credential === 'to_secret'
        ? `token_endpoint_auth_method: under policy ${decision.policyVersion} a move to ${m.token_endpoint_auth_method} at ${decision.risk} risk needs a review, and a client secret is issued only by a change applied at once; keep private_key_jwt, or ask the bank's API team.`
        : `token_endpoint_auth_method: a move to private_key_jwt applies at once, and the other changes of this update need a review (${changes
            .filter((c) => c.raises)
            .map((c) => c.text)
            .join('; ')}); send the move to private_key_jwt in an update of its own first.`,
      { field: 'token_endpoint_auth_method' },
    );
  }
  checkSeparationOfDuties(services, consumer.tier, draft.contacts, decision);
  const decided: UpdateDecision = {
    risk: decision.risk,
    requirements: decision.requirements,
    policyVersion: decision.policyVersion,
    decisionReasons: decision.reasons,
  };
  if (decision.outcome === 'auto') return applyUpdate(services, consumer, draft, decided, texts, 'policy_auto', actor, credential);

  const registrationToken = randomToken();
  const request = await openRequest(
    services,
    consumer,
    // The consumer asks for itself: its contacts are already kept from reviewing it, and this id matches no reviewer.
    { id: `consumer:${clientId}`, person: `consumer:${clientId}` },
    {
      type: 'update',
      justification: `Update of the registration, asked by the consumer through RFC 7592: ${texts.join('; ')}.`,
      risk: decision.risk,
      requirements: decision.requirements,
      proposed: { ...draft, ...decided },
      baseRevision: consumer.registrationRevision ?? 0,
      changes: texts,
    },
    { changes: texts, policyVersion: decision.policyVersion, reasons: decision.reasons.map((r) => r.code) },
    {
      actor,
      set: (request) => ({ registrationTokenHash: sha256B64u(registrationToken), updateRequestId: request.requestId }),
      unless: (current) => current.registrationTokenHash !== consumer.registrationTokenHash,
      lost: updateConflict,
    },
  );
  const current = registrationResponse(consumer, services.config.issuer, { registrationToken });
  return { statusCode: 202, body: { ...current, update_request: updateRequestBody(request) } };
}

/** The registration the metadata describes, refused where an update may not go. */
function draftOf(consumer: Consumer, m: ClientMetadata, verified: VerifiedMetadata, now: Date): RegistrationDraft {
  const statementSoftwareId = verified.statement?.softwareId;
  if (m.expires_at === undefined) {
    throw new RegistrationError('invalid_client_metadata', 'expires_at is required: an update replaces the whole registration (RFC 7592 section 2.2).', {
      field: 'expires_at',
    });
  }
  const expiresAt = new Date(m.expires_at);
  if (expiresAt.getTime() <= now.getTime()) {
    throw new RegistrationError('invalid_client_metadata', 'expires_at must be in the future; to end access now, delete the registration.', {
      field: 'expires_at',
    });
  }
  const method = m.token_endpoint_auth_method;
  if (method === 'private_key_jwt' && verified.jwksUri === undefined && !(m.jwks?.keys ?? []).some(isSigningKey)) {
    throw new RegistrationError('invalid_client_metadata', 'jwks must keep at least one key usable for signing client assertions.', { field: 'jwks' });
  }
  const softwareId = statementSoftwareId ?? m.software_id ?? consumer.statementSoftwareId;
  if (consumer.statementSoftwareId !== undefined && softwareId !== consumer.statementSoftwareId) {
    throw new RegistrationError(
      'unapproved_software_statement',
      `software_id is ${consumer.statementSoftwareId}, vouched for by a software statement; it cannot change.`,
      {
        field: 'software_id',
      },
    );
  }
  return {
    clientName: m.client_name,
    scopes: [...new Set(m.scope.split(' '))],
    purpose: m.purpose.trim(),
    dataClasses: m.data_classes,
    contacts: m.contacts,
    expiresAt: expiresAt.toISOString(),
    authMethod: method,
    jwks: m.jwks,
    jwksUri: verified.jwksUri,
    softwareId,
    dpopBoundAccessTokens: m.dpop_bound_access_tokens === true ? true : undefined,
  };
}

/** Refuses what a credential switch cannot carry, before anything is fetched or stored. */
function checkCredentialSwitch(consumer: Consumer, m: ClientMetadata, credential: CredentialSwitch): void {
  if (credential === 'to_secret' && m.jwks !== undefined) {
    throw new RegistrationError(
      'invalid_client_metadata',
      `jwks: leave the keys out when moving to ${m.token_endpoint_auth_method}; the keys registered now stay accepted through the key rollover grace.`,
      { field: 'jwks' },
    );
  }
  if (credential === 'to_key' && consumer.pendingSecretHash !== undefined) {
    throw new RegistrationError('update_conflict', 'A rotation of the client secret is under way; send the update again in a minute.');
  }
}

async function applyUpdate(
  services: UpdateServices,
  consumer: Consumer,
  draft: RegistrationDraft,
  decision: UpdateDecision | undefined,
  changes: readonly string[],
  path: 'narrows' | 'policy_auto',
  actor: Actor,
  credential: CredentialSwitch,
): Promise<UpdateResult> {
  const registrationToken = randomToken();
  const now = services.clock.now();
  const { set: credentialSet, clientSecret, oldCredentialUntil } = await switchCredential(services, consumer, draft, decision, credential, now);
  const methodChange =
    credential === 'none'
      ? {}
      : { authMethod: { from: consumer.authMethod, to: draft.authMethod }, ...(oldCredentialUntil !== undefined ? { oldCredentialUntil } : {}) };
  let outcome: { consumer: Consumer; applied: boolean };
  try {
    outcome = await applyTransition(
      services,
      {
        clientId: consumer.clientId,
        to: undefined,
        event: 'consumer.updated',
        actor,
        data: { path, changes, ...(decision ? { policyVersion: decision.policyVersion, risk: decision.risk } : {}), ...methodChange },
        set: {
          ...registrationSet(consumer, draft, decision, now, services.policy),
          ...credentialSet,
          registrationTokenHash: sha256B64u(registrationToken),
        },
        unless: (current) => current.registrationTokenHash !== consumer.registrationTokenHash,
      },
      consumer,
    );
  } catch (error) {
    // A write that may have applied keeps its secret (the consumer may hold it); one that surely did not leaves none behind.
    if (clientSecret !== undefined && !(error instanceof RegistryError && error.outcomeUnknown)) await discardSecret(services, consumer.clientId);
    throw error;
  }
  const { consumer: updated, applied } = outcome;
  if (!applied) {
    if (clientSecret !== undefined) await discardSecret(services, consumer.clientId);
    throw updateConflict();
  }
  // Narrowed scopes or keys bite this process's token endpoints at once; other instances' caches are short.
  forgetConsumerEverywhere(consumer.clientId);
  if (credential === 'to_key') {
    // The registry keeps the retired secret's hash for its grace; the stored value is no longer delivered nor rotated.
    // Deleted at once, not after a recovery window, so a later move back to a secret can store one under the same name.
    await services.clientSecrets
      .discard(consumer.clientId)
      .catch((error: unknown) => services.log.error('retired client secret not deleted', { clientId: consumer.clientId, error: (error as Error).name }));
  }
  await noticeContactsChange(services, consumer, draft.contacts);
  if (credential !== 'none') await noticeAuthMethodChange(services, updated, consumer.authMethod, draft.authMethod, oldCredentialUntil);
  return { statusCode: 200, body: registrationResponse(updated, services.config.issuer, { registrationToken, clientSecret }) };
}

/**
 * The credential side of an update: a move to keys retires the secret for its grace window; a move to a secret stores a
 * new one first, as registration does, so the registry never names a secret the store lacks.
 */
async function switchCredential(
  services: UpdateServices,
  consumer: Consumer,
  draft: RegistrationDraft,
  decision: UpdateDecision | undefined,
  credential: CredentialSwitch,
  now: Date,
): Promise<{ set: Record<string, unknown>; clientSecret?: string; oldCredentialUntil?: string | undefined }> {
  if (credential === 'to_key') {
    const set = retireSecretSet(consumer, services.policy, now);
    return { set, oldCredentialUntil: set.previousSecretExpiresAt };
  }
  if (credential !== 'to_secret') return { set: {} };
  const clientSecret = randomToken();
  const risk = decision?.risk ?? consumer.risk;
  // A concurrent move to a secret stored its own first: this update lost the race, as a stale revision would.
  await storeClientSecret(services, { clientId: consumer.clientId, risk }, clientSecret, 'nothing was changed').catch((error: unknown) => {
    throw error instanceof ServiceError && error.code === 'conflict' ? updateConflict() : error;
  });
  const set = issueSecretSet(consumer, sha256B64u(clientSecret), draft.expiresAt, services.policy, now);
  const until = set.retiredKeys?.reduce<string | undefined>((latest, r) => (latest === undefined || r.until > latest ? r.until : latest), undefined);
  return { set, clientSecret, oldCredentialUntil: until };
}

async function discardSecret(services: UpdateServices, clientId: string): Promise<void> {
  await services.clientSecrets
    .discard(clientId)
    .catch((e: unknown) => services.log.error('could not remove an unused client secret', { clientId, error: (e as Error).name }));
}
