import type { Actor } from '../audit/event.js';
import { unusedScopes, type Consumer, type Recertification } from '../consumer/consumer.js';
import { applyTransition } from '../consumer/transition.js';
import type { ChangeRequest } from '../requests/change-request.js';
import { closeRequest, updateRequest, type RequestServices } from '../requests/open-request.js';
import { reopenedWindow } from './due.js';

const WORKFLOW: Actor = { kind: 'system', id: 'review-workflow' };

/** Whether the consumer's attestation waiting for reviewers is the one this request reviews. */
const awaits = (consumer: Consumer, requestId: string): boolean => consumer.recertification?.pending?.requestId === requestId;

/**
 * Bank reviewers denied a high-risk attestation: the request ends denied (with the reviewer's reason), then the consumer
 * is suspended with reason `recertification_denied`, which lists it on the revocation document like every suspension.
 * Two writes, each done once: a retried step finds the request denied and still suspends a consumer that is not yet.
 */
export async function denyRecertification(services: RequestServices, clientId: string, requestId: string, comment: string): Promise<ChangeRequest> {
  const request = await closeRequest(services, clientId, requestId, 'denied', 'request.denied', WORKFLOW, comment);
  if (request.status !== 'denied') return request;
  const consumer = await services.consumers.getConsumer(clientId);
  // A consumer no longer active (suspended, revoked meanwhile) or attesting through another request keeps its state.
  if (!consumer || consumer.status !== 'active' || !awaits(consumer, requestId)) return request;
  const reason = request.outcomeReason ?? comment;
  const { pending, ...rest } = consumer.recertification!;
  const recertification: Recertification = { ...rest, deniedSuspendedAt: services.clock.now().toISOString() };
  await applyTransition(
    services,
    {
      clientId,
      to: 'suspended',
      event: 'consumer.suspended',
      actor: WORKFLOW,
      data: {
        reason: 'recertification_denied',
        detail: `Bank reviewers declined the periodic attestation by ${pending!.attestedBy}: ${reason}`,
        requestId,
        dueAt: rest.dueAt,
        scopeUsage: { used: consumer.usedScopes ?? [], unused: unusedScopes(consumer) },
      },
      set: { recertification },
      unless: (c) => c.status !== 'active' || !awaits(c, requestId),
    },
    consumer,
  );
  return request;
}

/**
 * A high-risk attestation's review ended without a decision (`expired`: the SLA ran out; `failed`): the consumer is not
 * held to the bank's delay. In the same transaction as the request's end, the attestation stops waiting and, while
 * MAX_REOPENINGS allows, its links are cleared and a new window opens (the grace period from now), so the sweep sends
 * each contact a fresh link on its next run and does not suspend for being overdue before that window ends. Past the
 * bound, the consumer is overdue from its original grace period and the sweep suspends it.
 */
export async function endRecertificationUndecided(
  services: RequestServices,
  clientId: string,
  requestId: string,
  outcome: { readonly status: 'expired' | 'failed'; readonly event: 'request.expired' | 'request.failed'; readonly reason: string },
): Promise<ChangeRequest> {
  const now = services.clock.now();
  const lifecycle = services.policy.document.lifecycle;
  const next = (consumer: Consumer): Partial<Pick<Consumer, 'recertification'>> | undefined => {
    if (consumer.status !== 'active' || !awaits(consumer, requestId)) return undefined;
    const { pending: _pending, links, linksSentAt, ...rest } = consumer.recertification!;
    const reopened = reopenedWindow(consumer, lifecycle, now, requestId);
    return { recertification: reopened ? { ...rest, reopened } : { ...rest, links, linksSentAt } };
  };
  return updateRequest(
    services,
    clientId,
    requestId,
    outcome.event,
    WORKFLOW,
    (_r, consumer) => {
      const reopened = next(consumer)?.recertification?.reopened;
      return { reason: outcome.reason, ...(reopened?.requestId === requestId ? { attestAgainBy: reopened.until } : {}) };
    },
    (r) => (r.status === 'pending_review' ? { status: outcome.status, outcomeReason: outcome.reason, openReviewId: undefined } : undefined),
    (_r, consumer) => next(consumer),
  );
}
