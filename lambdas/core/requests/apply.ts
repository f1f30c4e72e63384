import type { Actor } from '../audit/event.js';
import type { ActiveException, Consumer } from '../consumer/consumer.js';
import { forgetConsumerEverywhere } from '../oauth/consumer-cache.js';
import { noticeContactsChange, registrationSet } from '../registration/apply-update.js';
import type { Services } from '../services.js';
import { ServiceError } from '../errors.js';
import { reassess } from '../policy/reassess.js';
import type { ChangeRequest } from './change-request.js';
import { updateRequest, type RequestServices } from './open-request.js';
import { nextRecertificationDueAt } from '../recertification/due.js';

const WORKFLOW: Actor = { kind: 'system', id: 'review-workflow' };

/**
 * Applies a change request the reviewers approved, in one transaction with its audit event: an exception is put in force
 * on the consumer (and clears an out-of-policy finding it resolves); a reinstatement makes the consumer active again under
 * the deployed policy's requirements. Idempotent for Step Functions retries; a consumer that changed so the request no
 * longer applies (revoked, no longer suspended, out of policy again) is a conflict, which the workflow records as failed.
 */
export async function applyApprovedRequest(
  services: RequestServices & Partial<Pick<Services, 'mailer'>>,
  clientId: string,
  requestId: string,
): Promise<ChangeRequest> {
  const request = await services.requests.getRequest(clientId, requestId);
  if (!request) throw new ServiceError('not_found', `No request ${requestId} for ${clientId}.`);
  if (request.status !== 'pending_review') return request;
  if (request.approvals.length < request.approvalsRequired) {
    throw new ServiceError('conflict', `${requestId} has ${request.approvals.length} of ${request.approvalsRequired} approvals.`);
  }
  const approvers = request.approvals.map((a) => a.reviewer);
  const now = services.clock.now();
  switch (request.type) {
    case 'exception':
      return grantException(services, request, approvers, now);
    case 'reinstatement':
      return reinstate(services, request, approvers, now);
    case 'update':
      return applyUpdate(services, request, approvers, now);
    case 'recertification':
      return confirmRecertification(services, request, approvers, now);
  }
}

/**
 * An approved RFC 7592 update: the registration proposed (with the policy's decision on it) replaces the consumer's, as
 * long as no other update was applied since it was proposed and the consumer still has access; otherwise a conflict.
 * Its contacts are told if the contact list changed (when this function can send mail).
 */
async function applyUpdate(
  services: RequestServices & Partial<Pick<Services, 'mailer'>>,
  request: ChangeRequest,
  approvers: string[],
  now: Date,
): Promise<ChangeRequest> {
  const proposed = request.proposed!;
  let before: Consumer | undefined;
  const { risk, requirements, policyVersion, decisionReasons, ...draft } = proposed;
  const result = await updateRequest(
    services,
    request.clientId,
    request.requestId,
    'consumer.updated',
    WORKFLOW,
    { path: 'review', changes: request.changes ?? [], approvers, policyVersion },
    (r, consumer) => {
      if (r.status !== 'pending_review') return undefined;
      if (consumer.status !== 'active' && consumer.status !== 'suspended')
        throw new ServiceError('conflict', `${consumer.clientId} is ${consumer.status}; the update cannot apply.`);
      if ((consumer.registrationRevision ?? 0) !== r.baseRevision)
        throw new ServiceError('conflict', `The registration of ${consumer.clientId} changed since the update ${r.requestId} was proposed.`);
      before = consumer;
      return { status: 'approved', openReviewId: undefined };
    },
    (r, consumer) => ({
      ...registrationSet(consumer, draft, { risk, requirements, policyVersion, decisionReasons }, now, services.policy),
      approvals: r.approvals,
    }),
  );
  forgetConsumerEverywhere(request.clientId);
  if (before !== undefined && services.mailer !== undefined) await noticeContactsChange({ ...services, mailer: services.mailer }, before, draft.contacts);
  return result;
}

async function grantException(services: RequestServices, request: ChangeRequest, approvers: string[], now: Date): Promise<ChangeRequest> {
  const grant = request.grant!;
  const exception = { ...grant, exceptionId: request.requestId, grantedAt: now.toISOString(), expiresAt: request.expiresAt!, approvers } as ActiveException;
  if (Date.parse(exception.expiresAt) <= now.getTime())
    throw new ServiceError('conflict', `The exception ${request.requestId} ended (${exception.expiresAt}) before it was approved.`);
  return updateRequest(
    services,
    request.clientId,
    request.requestId,
    'exception.granted',
    WORKFLOW,
    { rule: grant.rule, value: grant.value, expiresAt: exception.expiresAt, approvers },
    (r, consumer) => {
      if (r.status !== 'pending_review') return undefined;
      if (consumer.status !== 'active' && consumer.status !== 'suspended')
        throw new ServiceError('conflict', `${consumer.clientId} is ${consumer.status}; the exception cannot apply.`);
      return { status: 'active', openReviewId: undefined };
    },
    (_r, consumer) => {
      const exceptions = [...(consumer.exceptions ?? []).filter((e) => e.exceptionId !== request.requestId), exception];
      const resolved = consumer.outOfPolicy !== undefined && reassess(services.policy, { ...consumer, exceptions }, now).inPolicy;
      return { exceptions, ...(resolved && consumer.status === 'active' ? { outOfPolicy: undefined } : {}) };
    },
  );
}

/** A bank reviewer confirmed a high-risk attestation: it becomes the last attestation and the next period starts now. */
async function confirmRecertification(services: RequestServices, request: ChangeRequest, approvers: string[], now: Date): Promise<ChangeRequest> {
  return updateRequest(
    services,
    request.clientId,
    request.requestId,
    'consumer.recertification_confirmed',
    WORKFLOW,
    { approvers },
    (r) => (r.status === 'pending_review' ? { status: 'approved', openReviewId: undefined } : undefined),
    (_r, consumer) => {
      const pending = consumer.recertification?.pending;
      if (!pending || pending.requestId !== request.requestId)
        throw new ServiceError('conflict', `${consumer.clientId} has no attestation waiting for ${request.requestId}.`);
      const { requestId, until: _until, ...attestation } = pending;
      const dueAt = nextRecertificationDueAt(now, consumer.risk, services.policy.document.lifecycle) ?? consumer.recertification!.dueAt;
      return { recertification: { dueAt, last: { ...attestation, requestId, confirmedBy: approvers } } };
    },
  );
}

async function reinstate(services: RequestServices, request: ChangeRequest, approvers: string[], now: Date): Promise<ChangeRequest> {
  const consumer = await services.consumers.getConsumer(request.clientId);
  if (!consumer) throw new ServiceError('not_found', `No consumer ${request.clientId}.`);
  if (consumer.status !== 'suspended') throw new ServiceError('conflict', `${consumer.clientId} is ${consumer.status}, not suspended.`);
  // The reinstatement's approvals are the consumer's approvals from now on: it is re-approved under today's policy.
  const assessed = reassess(services.policy, { ...consumer, approvals: request.approvals }, now);
  if (!assessed.inPolicy) {
    throw new ServiceError('conflict', `${consumer.clientId} no longer meets the policy: ${assessed.reasons.map((r) => r.code).join(', ')}.`);
  }
  return updateRequest(
    services,
    request.clientId,
    request.requestId,
    'consumer.reinstated',
    WORKFLOW,
    { approvers, policyVersion: services.policy.version },
    (r, c) => {
      if (r.status !== 'pending_review') return undefined;
      if (c.status !== 'suspended') throw new ServiceError('conflict', `${c.clientId} is ${c.status}, not suspended.`);
      return { status: 'approved', openReviewId: undefined };
    },
    (r) => ({
      approvals: r.approvals,
      policyVersion: services.policy.version,
      risk: assessed.decision.risk,
      requirements: assessed.decision.requirements,
      outOfPolicy: undefined,
    }),
    'active',
  );
}
