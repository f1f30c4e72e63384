import { randomBytes } from 'node:crypto';
import type { Actor, AuditEventType } from '../audit/event.js';
import type { Consumer } from '../consumer/consumer.js';
import { hasEnded } from '../consumer/lifecycle.js';
import { applyTransition, transition, type TransitionRequest } from '../consumer/transition.js';
import { ServiceError } from '../errors.js';
import { RegistryError } from '../registry/errors.js';
import { STALLED_REVIEW_MS } from '../lifecycle/attention.js';
import type { Needs } from '../services.js';
import { operatorActor, type Operator } from '../admin/operators.js';
import { RequestError } from './errors.js';
import { bankDomains } from '../review/addresses.js';
import { eligibleReviewers } from '../review/review.js';
import type { ExceptionGrant } from '../exceptions/rules.js';
import type { RiskLevel, RiskRequirements } from '../policy/schema.js';
import type { ChangeRequest, ProposedRegistration, RequestKind } from './change-request.js';

/** What changing a request (with its consumer's audit event) reads and writes. */
export type RequestServices = Needs<'getConsumer' | 'updateConsumer' | 'getRequest'>;

const WORKFLOW: Actor = { kind: 'system', id: 'review-workflow' };

const ID_PREFIX: Readonly<Record<RequestKind, string>> = { exception: 'exc', reinstatement: 'rei', update: 'upd', recertification: 'rec' };

/** Request ids say what they are and are unguessable: `exc-…` exceptions, `rei-…` reinstatements, `upd-…` updates, `rec-…` recertifications. */
export function newRequestId(type: RequestKind): string {
  return `${ID_PREFIX[type]}-${randomBytes(12).toString('hex')}`;
}

/** What an operator asks for, with the policy's requirements for the consumer's risk today. */
export interface RequestDraft {
  readonly type: RequestKind;
  readonly justification: string;
  readonly risk: RiskLevel;
  readonly requirements: RiskRequirements;
  readonly grant?: ExceptionGrant | undefined;
  readonly expiresAt?: string | undefined;
  readonly proposed?: ProposedRegistration | undefined;
  readonly baseRevision?: number | undefined;
  readonly changes?: readonly string[] | undefined;
}

/** How a request the consumer opens itself (an RFC 7592 update) is recorded, in place of an operator's. */
/**
 * What a request opened by someone other than an operator adds (a consumer's own update, an owner's attestation): who it
 * is audited under, consumer fields written in the same transaction (given the request), and a condition under which
 * nothing is requested (then `lost()` is thrown, or a conflict).
 */
export interface RequestOpening {
  readonly actor?: Actor | undefined;
  readonly set?: ((request: ChangeRequest) => TransitionRequest['set']) | undefined;
  readonly unless?: ((consumer: Consumer) => boolean) | undefined;
  readonly lost?: (() => Error) | undefined;
}

/**
 * Stores a change request (with its audit event on the consumer's chain, in one transaction), then starts its review
 * workflow. If the workflow cannot start, the request is closed as failed and the caller gets a 503; if even that write
 * fails, the sweep closes it once STALLED_REVIEW_MS have passed (`requestCheckAt`): nothing is left pending for ever.
 */
export async function openRequest(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'workflow'>,
  consumer: Consumer,
  operator: Operator,
  draft: RequestDraft,
  data: Readonly<Record<string, unknown>>,
  opening: RequestOpening = {},
): Promise<ChangeRequest> {
  // Separation of duties compares people: a principal nobody is mapped to could be any reviewer, so it asks for nothing.
  if (operator.person === undefined) {
    throw new RequestError(
      'operator_unknown',
      `The principal ${operator.id} is not mapped to a person, so reviewers cannot be kept apart from the requester. Add it to the operators table (CDK context "operators") or sign in through IAM Identity Center.`,
    );
  }
  // Fail closed before anything is stored: the requester and the consumer's contacts never review, and what remains must
  // be enough distinct people for every approval.
  const groups = services.config.reviewers;
  const needed = Math.max(1, draft.requirements.approvals);
  const eligible = eligibleReviewers(
    groups[draft.risk] ?? groups.default,
    [...consumer.contacts, operator.person],
    [],
    bankDomains(groups, services.config.operators),
  );
  if (eligible.length < needed) {
    throw new RequestError(
      'too_few_reviewers',
      `Too few eligible reviewers for this ${draft.risk}-risk request: ${needed} approval(s) needed, ${eligible.length} reviewer(s) left once the requester (${operator.person}) and the consumer's contacts are excluded. Ask another operator, or add reviewers.`,
    );
  }
  const at = services.clock.now().toISOString();
  const { requirements, ...fields } = draft;
  const request: ChangeRequest = {
    ...fields,
    requestId: newRequestId(draft.type),
    clientId: consumer.clientId,
    status: 'pending_review',
    requestedBy: operator.person,
    requestedByPrincipal: operator.id,
    // A change to a consumer is always looked at by a person, by as many as its risk needs.
    approvalsRequired: Math.max(1, requirements.approvals),
    approvals: [],
    reviewSlaHours: requirements.reviewSlaHours,
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  const actor: Actor = opening.actor ?? operatorActor(operator);
  const { applied } = await applyTransition(
    services,
    {
      clientId: consumer.clientId,
      to: undefined,
      event: 'request.created',
      actor,
      data: { requestId: request.requestId, type: request.type, ...data },
      // Arms the sweep's check that this request gets its workflow (an older pending check keeps its earlier time).
      set: { ...opening.set?.(request), requestCheckAt: consumer.requestCheckAt ?? at },
      request: { create: request },
      ...(opening.unless ? { unless: opening.unless } : {}),
    },
    consumer,
  );
  if (!applied) throw opening.lost?.() ?? new ServiceError('conflict', `${consumer.clientId} changed; nothing was requested.`);
  let execution: string;
  try {
    execution = await services.workflow.startReview({
      clientId: consumer.clientId,
      requestId: request.requestId,
      risk: request.risk,
      approvals: request.approvalsRequired,
      reviewSlaSeconds: request.reviewSlaHours * 3600,
    });
  } catch (cause) {
    services.log.error('review workflow did not start', { clientId: consumer.clientId, requestId: request.requestId, error: (cause as Error).name });
    await closeRequest(services, consumer.clientId, request.requestId, 'failed', 'request.failed', WORKFLOW, 'The review workflow could not be started.').catch(
      (e: unknown) => services.log.error('could not close the failed request', { requestId: request.requestId, error: (e as Error).name }),
    );
    throw new ServiceError('dependency_unavailable', 'The review workflow could not be started; nothing was requested. Try again shortly.', {
      cause,
      retryAfterSeconds: 30,
    });
  }
  return updateRequest(services, consumer.clientId, request.requestId, 'request.review_started', WORKFLOW, { execution }, (r) =>
    r.status === 'pending_review' && r.reviewExecution === undefined ? { reviewExecution: execution } : undefined,
  );
}

/**
 * Changes a request with an audit event on its consumer's chain, in one transaction; `change` returns the fields to set,
 * or undefined when nothing is to be done (already done by a retry). Lost races on either record are re-read.
 */
export async function updateRequest(
  services: RequestServices,
  clientId: string,
  requestId: string,
  event: AuditEventType,
  actor: Actor,
  data: Readonly<Record<string, unknown>> | ((request: ChangeRequest, consumer: Consumer) => Readonly<Record<string, unknown>>),
  change: (request: ChangeRequest, consumer: Consumer) => Partial<Omit<ChangeRequest, 'requestId' | 'clientId' | 'type' | 'version'>> | undefined,
  consumerSet?: (request: ChangeRequest, consumer: Consumer) => Parameters<typeof transition>[1]['set'],
  to?: Consumer['status'],
): Promise<ChangeRequest> {
  for (let attempt = 1; ; attempt++) {
    const request = await services.requests.getRequest(clientId, requestId);
    if (!request) throw new ServiceError('not_found', `No request ${requestId} for ${clientId}.`);
    const consumer = await services.consumers.getConsumer(clientId);
    if (!consumer) throw new ServiceError('not_found', `No consumer ${clientId}.`);
    const set = change(request, consumer);
    if (set === undefined) return request;
    const at = services.clock.now().toISOString();
    try {
      await applyTransition(
        services,
        {
          clientId,
          to,
          event,
          actor,
          data: { requestId, type: request.type, ...(typeof data === 'function' ? data(request, consumer) : data) },
          ...(consumerSet ? { set: consumerSet(request, consumer) } : {}),
          request: { requestId, expect: { statuses: [request.status], version: request.version }, set: { ...set, updatedAt: at } },
        },
        consumer,
      );
      return { ...request, ...set, updatedAt: at, version: request.version + 1 };
    } catch (error) {
      if (attempt >= 4 || !(error instanceof RegistryError && error.code === 'condition_failed' && error.item === 'request')) throw error;
    }
  }
}

/**
 * Ends a request without approval (denied, review expired, failed, or `ended`: its consumer's registration ended first); a
 * request already ended is left as it is.
 */
export async function closeRequest(
  services: RequestServices,
  clientId: string,
  requestId: string,
  status: 'denied' | 'expired' | 'failed' | 'ended',
  event: 'request.denied' | 'request.expired' | 'request.failed' | 'request.ended',
  actor: Actor,
  reason: string,
): Promise<ChangeRequest> {
  return updateRequest(services, clientId, requestId, event, actor, { reason }, (r) =>
    r.status === 'pending_review' ? { status, outcomeReason: reason, openReviewId: undefined } : undefined,
  );
}

/**
 * Closes a pending request as `ended` when its consumer's registration has ended meanwhile (revoked, withdrawn): the
 * review has nothing left to apply, and recording it as denied, expired or failed would say something that did not
 * happen. Returns the request when the consumer has ended (closed now, or already closed), undefined while it stands.
 */
export async function endRequestOfEndedConsumer(services: RequestServices, clientId: string, requestId: string): Promise<ChangeRequest | undefined> {
  const consumer = await services.consumers.getConsumer(clientId);
  if (!consumer || !hasEnded(consumer.status)) return undefined;
  const reason = `The consumer's registration ended (${consumer.status}) before the review did; nothing was applied.`;
  return closeRequest(services, clientId, requestId, 'ended', 'request.ended', WORKFLOW, reason);
}

const NEVER_STARTED = 'The review workflow never started.';

/** A request still waiting for its review workflow to be recorded. */
export const awaitsWorkflow = (r: ChangeRequest): boolean => r.status === 'pending_review' && r.reviewExecution === undefined;

/**
 * A consumer's change requests, after closing as failed any that has waited longer than STALLED_REVIEW_MS without a
 * review workflow (its start and the record of its failure both failed): such a request would otherwise block every new
 * request for the same change. A workflow that did start but was not recorded then finds its request failed and ends.
 * `closed` counts the requests this call closed.
 */
export async function settleStalledRequests(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests'>,
  clientId: string,
): Promise<{ requests: ChangeRequest[]; closed: number }> {
  const now = services.clock.now().getTime();
  const requests = await services.requests.listRequests(clientId);
  const out: ChangeRequest[] = [];
  let closed = 0;
  for (const r of requests) {
    if (!awaitsWorkflow(r) || Date.parse(r.createdAt) + STALLED_REVIEW_MS > now) {
      out.push(r);
      continue;
    }
    // Closed only while it still has no workflow: one recorded since the list was read keeps its request.
    let closing = false;
    const after = await updateRequest(services, clientId, r.requestId, 'request.failed', WORKFLOW, { reason: NEVER_STARTED }, (current) => {
      closing = awaitsWorkflow(current);
      return closing ? { status: 'failed', outcomeReason: NEVER_STARTED, openReviewId: undefined } : undefined;
    });
    if (closing) closed++;
    out.push(after);
  }
  return { requests: out, closed };
}

/** A consumer's change requests, with those stalled past the limit closed as failed (see settleStalledRequests). */
export async function liveRequests(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest' | 'listRequests'>,
  clientId: string,
): Promise<ChangeRequest[]> {
  return (await settleStalledRequests(services, clientId)).requests;
}
