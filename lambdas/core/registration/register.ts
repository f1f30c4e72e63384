import { randomBytes } from 'node:crypto';
import { chainEvent, GENESIS_HASH, type Actor, type AuditEvent } from '../audit/event.js';
import { transition } from '../consumer/transition.js';
import type { Consumer } from '../consumer/consumer.js';
import { ServiceError } from '../errors.js';
import { idempotencyKeyHash, IDEMPOTENCY_KEY_PATTERN, openResponse, sealResponse } from '../idempotency/seal.js';
import { attentionAt } from '../lifecycle/attention.js';
import type { Decision } from '../policy/evaluate.js';
import { decideAccess, verifyMetadata } from './assess.js';
import type { IdempotencyRecord } from '../ports.js';
import { RegistryError } from '../registry/errors.js';
import type { BaseServices, Needs } from '../services.js';
import { canonicalJson } from '../util/canonical-json.js';
import { randomToken, sha256B64u, sha256Hex } from '../util/hash.js';
import { RegistrationDeniedError, RegistrationError } from './errors.js';
import type { ClientMetadata } from './metadata.js';
import { registrationResponse } from './response.js';
import { bankDomains, inDomains } from '../review/addresses.js';
import { eligibleReviewers } from '../review/review.js';
import type { Tier } from '../policy/schema.js';
import { chargeAnonymousRegistration, type RegistrationQuota } from './quota.js';
import { checkSoftwareIdLimit, type SoftwareConsumers } from './software-consumers.js';
import type { SoftwareStatement } from './software-statement.js';
import type { RemoteKeySets } from '../ports/remote-key-sets.js';
import { checkPublishedKeys } from './key-source.js';

/** What the edge hands over: validated metadata, the raw body (for idempotency fingerprints) and the key, if any. */
export interface RegisterInput {
  readonly metadata: ClientMetadata;
  readonly rawBody: string;
  readonly idempotencyKey: string | undefined;
  /** The caller's address (API Gateway's `requestContext.identity.sourceIp`), which anonymous registrations are counted by. */
  readonly sourceIp?: string | undefined;
}

export interface RegisterResult {
  readonly statusCode: 201 | 202;
  readonly body: Readonly<Record<string, unknown>>;
  /** True when the response is a replay of an earlier request with the same Idempotency-Key. */
  readonly replayed: boolean;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
const SYSTEM: Actor = { kind: 'system', id: 'gatehouse' };

/**
 * Registers an API consumer: verify, evaluate policy, then create it active (201) or pending review (202), or refuse.
 * A registration without a software statement is counted against `quota` (the policy's per-address daily limit); one with
 * a statement against the policy's limit of live consumers per software_id, through `softwareConsumers`.
 */
export async function register(
  services: Needs<'createConsumer' | 'getConsumer' | 'updateConsumer' | 'getIdempotency', 'clientSecrets' | 'workflow'>,
  input: RegisterInput,
  ports: {
    readonly quota?: RegistrationQuota | undefined;
    readonly softwareConsumers?: SoftwareConsumers | undefined;
    /** Fetches a `jwks_uri` to check it; without it, registrations with one are refused. */
    readonly keySets?: RemoteKeySets | undefined;
  } = {},
): Promise<RegisterResult> {
  const { consumers, markers, clock, policy, config } = services;
  const now = clock.now();

  let idempotency: { key: string; keyHash: string; requestHash: string } | undefined;
  if (input.idempotencyKey !== undefined) {
    if (!IDEMPOTENCY_KEY_PATTERN.test(input.idempotencyKey)) {
      throw new RegistrationError('idempotency_key_invalid', 'Idempotency-Key must be 16 to 255 characters of A-Z a-z 0-9 . _ : - (a UUID works).');
    }
    const keyHash = idempotencyKeyHash(input.idempotencyKey);
    const requestHash = sha256Hex(canonicalJson(input.metadata));
    idempotency = { key: input.idempotencyKey, keyHash, requestHash };
    const stored = await markers.getIdempotency(keyHash);
    // DynamoDB TTL deletes lazily, so an expired record is treated as absent.
    if (stored && stored.expiresAtEpoch * 1000 > now.getTime()) return replay(stored, idempotency);
  }

  const m = input.metadata;
  const verified = await verifyMetadata(services, m, now);
  const { tier, statement, scopes, jwksUri } = verified;
  const decision = decideAccess(services, m, verified, now);
  if (decision.outcome === 'deny') {
    // A denial is not a consumer: nothing is stored, the decision is logged for the security team.
    services.log.warn('registration denied', { tier, scopes, policyVersion: decision.policyVersion, reasons: decision.reasons.map((r) => r.code) });
    services.metrics.record('RegistrationDecisions', { path: 'deny', tier });
    throw new RegistrationDeniedError(decision);
  }

  checkSeparationOfDuties(services, tier, m.contacts, decision);

  // Counted only once nothing else refuses the request: what the quota bounds is what a registration costs the bank (a
  // stored secret, emails to unverified addresses). A statement signed by the bank is not anonymous.
  if (statement === undefined && ports.quota !== undefined) {
    await chargeAnonymousRegistration(ports.quota, policy.document.registrationQuotas.anonymousPerIpPerDay, input.sourceIp, now);
  }
  // After the quota: the fetch is a request to a URL the caller chose, made on its behalf, and counted as such.
  if (jwksUri !== undefined) await checkPublishedKeys(ports.keySets, jwksUri, m.jwks_uri === undefined);
  const perSoftwareId = policy.document.softwareStatements.maxConsumersPerSoftwareId;
  if (statement !== undefined && perSoftwareId !== undefined && ports.softwareConsumers !== undefined) {
    await checkSoftwareIdLimit(ports.softwareConsumers, statement, perSoftwareId);
  }

  const clientId = `gh_${randomBytes(12).toString('base64url')}`;
  const registrationToken = randomToken();
  const usesSecret = m.token_endpoint_auth_method !== 'private_key_jwt';
  const clientSecret = usesSecret && decision.outcome === 'auto' ? randomToken() : undefined;
  const iso = now.toISOString();
  const active = decision.outcome === 'auto';

  const base: Omit<Consumer, 'auditSeq' | 'auditHead'> = {
    clientId,
    clientName: m.client_name,
    tier,
    status: active ? 'active' : 'pending_review',
    scopes,
    purpose: m.purpose.trim(),
    dataClasses: m.data_classes,
    contacts: m.contacts,
    expiresAt: new Date(m.expires_at!).toISOString(),
    authMethod: m.token_endpoint_auth_method,
    risk: decision.risk,
    requirements: decision.requirements,
    dpopBoundAccessTokens: m.dpop_bound_access_tokens === true ? true : undefined,
    policyVersion: decision.policyVersion,
    decisionReasons: decision.reasons,
    softwareId: statement?.softwareId ?? m.software_id,
    statementSoftwareId: statement?.softwareId,
    organisation: statement?.orgName,
    jwks: m.jwks,
    jwksUri,
    secretHash: clientSecret === undefined ? undefined : sha256B64u(clientSecret),
    // The hard end of any secret of this consumer; rotation replaces the secret well before it (policy period).
    secretExpiresAt: clientSecret === undefined ? undefined : new Date(m.expires_at!).toISOString(),
    registrationTokenHash: sha256B64u(registrationToken),
    createdAt: iso,
    updatedAt: iso,
  };

  const actor: Actor = { kind: 'consumer', id: clientId };
  const events = auditTrail(clientId, iso, actor, decision, statement, active, jwksUri);
  const head = events[events.length - 1]!;
  const withActivation = active ? { ...base, activatedAt: iso } : base;
  const consumer: Consumer = {
    ...withActivation,
    attentionAt: attentionAt({ ...withActivation, auditSeq: 0, auditHead: '' }, policy.document.lifecycle),
    auditSeq: head.seq,
    auditHead: head.hash,
  };
  const body = registrationResponse(consumer, config.issuer, { clientSecret, registrationToken });

  // The secret's store entry comes first: a consumer is never recorded with a secret it cannot fetch or rotate.
  if (clientSecret !== undefined) await storeClientSecret(services, consumer, clientSecret);
  // The idempotency record is written with the consumer, so a concurrent duplicate can never create a second one.
  const statusCode = active ? 201 : 202;
  try {
    await consumers.createConsumer(consumer, events, idempotency && storeRecord(idempotency, statusCode, body, now));
  } catch (error) {
    // A write that may have applied keeps its secret: deleting it could leave a consumer that cannot authenticate. If
    // the consumer was never written, the secret is an orphan that the clean-up of unused secrets removes.
    const mayExist = error instanceof RegistryError && error.outcomeUnknown;
    if (clientSecret !== undefined && !mayExist) {
      await services.clientSecrets
        .discard(clientId)
        .catch((e: unknown) => services.log.error('could not remove an unused client secret', { clientId, error: (e as Error).name }));
    }
    // A concurrent request with the same key won the race: answer with its response.
    if (idempotency && error instanceof RegistryError && error.code === 'condition_failed') {
      const stored = await markers.getIdempotency(idempotency.keyHash);
      if (stored) return replay(stored, idempotency);
    }
    throw error;
  }
  if (active) {
    services.metrics.record('RegistrationDecisions', { path: 'auto', tier });
    return { statusCode: 201, body, replayed: false };
  }

  // Review path: the request is stored, then the workflow starts; if it cannot start, the request is closed as failed.
  const review = {
    clientId,
    requestId: null,
    risk: decision.risk,
    approvals: decision.requirements.approvals,
    reviewSlaSeconds: decision.requirements.reviewSlaHours * 3600,
  };
  let execution: string;
  try {
    execution = await services.workflow.startReview(review);
  } catch (cause) {
    services.log.error('review workflow did not start', { clientId, error: (cause as Error).name });
    // The stored response is released with it, so a retry with the same Idempotency-Key starts afresh.
    await transition(services, {
      clientId,
      to: 'failed',
      event: 'consumer.review_failed',
      actor: SYSTEM,
      data: { reason: 'workflow_start_failed' },
      releaseIdempotency: idempotency?.keyHash,
    }).catch((e: unknown) => services.log.error('could not close the failed request', { clientId, error: (e as Error).name }));
    throw new ServiceError('dependency_unavailable', 'The review workflow could not be started; nothing was approved. Try again shortly.', {
      cause,
      retryAfterSeconds: 30,
    });
  }
  // The workflow may already be writing to the consumer; transition() re-reads and re-applies on a lost race.
  await transition(services, {
    clientId,
    to: undefined,
    event: 'consumer.review_started',
    actor: SYSTEM,
    data: { execution, approvalsRequired: review.approvals },
    set: { reviewExecution: execution },
  });
  services.metrics.record('RegistrationDecisions', { path: 'review', tier });
  return { statusCode: 202, body, replayed: false };
}

/** Stores a new client secret, rotated on its risk's schedule; a store that fails refuses the whole request (503), which changed nothing. */
export async function storeClientSecret(
  services: Needs<never, 'clientSecrets'>,
  consumer: Pick<Consumer, 'clientId' | 'risk'>,
  clientSecret: string,
  unchanged = 'nothing was registered',
): Promise<void> {
  try {
    await services.clientSecrets.create({ clientId: consumer.clientId, clientSecret }, services.policy.document.risks[consumer.risk].secretRotationDays);
  } catch (cause) {
    // Another request stored this consumer's secret first: the caller decides what that means for its own request.
    if (cause instanceof ServiceError && cause.code === 'conflict') throw cause;
    services.log.error('client secret not stored', { clientId: consumer.clientId, error: (cause as Error).name });
    throw new ServiceError('dependency_unavailable', `The client secret could not be stored; ${unchanged}. Try again shortly.`, {
      cause,
      retryAfterSeconds: 30,
    });
  }
}

function auditTrail(
  clientId: string,
  at: string,
  actor: Actor,
  decision: Decision,
  statement: SoftwareStatement | undefined,
  active: boolean,
  jwksUri: string | undefined,
): AuditEvent[] {
  const events: AuditEvent[] = [];
  const push = (type: AuditEvent['type'], who: Actor, data: Record<string, unknown>) => {
    const prev = events.at(-1);
    events.push(chainEvent({ seq: prev?.seq ?? 0, head: prev?.hash ?? GENESIS_HASH }, { clientId, type, at, actor: who, data }));
  };
  // Where the client's keys live is evidence too: whoever controls that URL can authenticate as the client.
  push('consumer.requested', actor, {
    softwareId: statement?.softwareId,
    softwareStatementVerified: statement !== undefined,
    ...(jwksUri !== undefined ? { jwksUri } : {}),
  });
  push('consumer.evaluated', SYSTEM, {
    outcome: decision.outcome,
    risk: decision.risk,
    policyVersion: decision.policyVersion,
    reasons: decision.reasons.map((r) => r.code),
  });
  if (active) {
    push('consumer.activated', SYSTEM, { by: 'policy' });
    push('credentials.issued', SYSTEM, { kind: 'client_registration' });
  }
  return events;
}

function storeRecord(idem: { key: string; keyHash: string; requestHash: string }, statusCode: number, body: unknown, now: Date): IdempotencyRecord {
  return {
    keyHash: idem.keyHash,
    requestHash: idem.requestHash,
    statusCode,
    sealedBody: sealResponse(idem.key, body),
    createdAt: now.toISOString(),
    expiresAtEpoch: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
  };
}

function replay(stored: IdempotencyRecord, idem: { key: string; requestHash: string }): RegisterResult {
  if (stored.requestHash !== idem.requestHash) {
    throw new RegistrationError('idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
  }
  const body = openResponse(idem.key, stored.sealedBody) as Record<string, unknown>;
  return { statusCode: stored.statusCode === 202 ? 202 : 201, body, replayed: true };
}

/**
 * A partner or the public never names the bank's own people as contacts: contacts are excluded from reviewing, so naming
 * reviewers would let a requester choose who reviews. Any tier's contacts must leave enough reviewers for the approvals.
 */
export function checkSeparationOfDuties(services: BaseServices, tier: Tier, contacts: readonly string[], decision: Decision): void {
  const { reviewers, operators } = services.config;
  const domains = bankDomains(reviewers, operators);
  if (tier !== 'internal') {
    const own = contacts.find((c) => inDomains(c, domains));
    if (own !== undefined) {
      throw new RegistrationError('invalid_client_metadata', `contacts: ${own} is an address of the bank; a ${tier} consumer names its own people.`, {
        field: 'contacts',
      });
    }
  }
  if (decision.outcome !== 'review') return;
  const needed = decision.requirements.approvals;
  const eligible = eligibleReviewers(reviewers[decision.risk] ?? reviewers.default, contacts, [], domains);
  if (eligible.length < needed) {
    throw new RegistrationError(
      'invalid_client_metadata',
      `contacts: they name reviewers of ${decision.risk}-risk requests, leaving ${eligible.length} of the ${needed} distinct reviewers needed; name other contacts.`,
      { field: 'contacts' },
    );
  }
}
