import type { ChangeRequest, RequestStatus } from '../requests/change-request.js';
import type { Needs } from '../services.js';

/** What operators see of a change request (snake_case, like the rest of the admin API). */
export function requestView(request: ChangeRequest): Record<string, unknown> {
  return {
    request_id: request.requestId,
    type: request.type,
    client_id: request.clientId,
    status: request.status,
    ...(request.grant ? { rule: request.grant.rule, value: request.grant.value } : {}),
    ...(request.expiresAt ? { expires_at: request.expiresAt } : {}),
    justification: request.justification,
    requested_by: request.requestedBy,
    ...(request.requestedByPrincipal ? { requested_by_principal: request.requestedByPrincipal } : {}),
    risk: request.risk,
    approvals_required: request.approvalsRequired,
    approvals: request.approvals.map((a) => ({ reviewer: a.reviewer, at: a.at, ...(a.comment ? { comment: a.comment } : {}) })),
    ...(request.outcomeReason ? { outcome_reason: request.outcomeReason } : {}),
    ...(request.reviewExecution ? { review_execution: request.reviewExecution } : {}),
    created_at: request.createdAt,
    updated_at: request.updatedAt,
  };
}

/**
 * Exceptions, newest first: one consumer's (a Query), or everyone's a page at a time (a Scan: an operator's listing, not a
 * request path; a page may hold fewer than `limit` matches, `next` continues it).
 */
export async function listExceptions(
  services: Needs<'listRequests' | 'listAllRequests'>,
  filter: { readonly clientId?: string | undefined; readonly status?: RequestStatus | undefined },
  page: { readonly limit: number; readonly next?: string | undefined },
): Promise<{ exceptions: ChangeRequest[]; next?: string | undefined }> {
  const keep = (r: ChangeRequest) => r.type === 'exception' && (filter.status === undefined || r.status === filter.status);
  if (filter.clientId !== undefined) {
    const all = await services.requests.listRequests(filter.clientId);
    return { exceptions: all.filter(keep).reverse().slice(0, page.limit) };
  }
  const out = await services.requests.listAllRequests(page.limit, page.next);
  return { exceptions: out.requests.filter(keep).sort((a, b) => b.createdAt.localeCompare(a.createdAt)), next: out.next };
}
