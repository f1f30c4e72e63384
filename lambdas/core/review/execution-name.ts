import type { ReviewRequest } from '../ports.js';

/**
 * The review workflow execution of a request: named after the consumer (onboarding) or the change request, so a retry
 * cannot start two, and the review tasks can name their execution in logs. Step Functions allows 80 characters: client
 * ids are at most 64 (registration), request ids 28.
 */
export function reviewExecutionName(request: Pick<ReviewRequest, 'clientId' | 'requestId'>): string {
  return request.requestId === null ? `review-${request.clientId}` : `request-${request.requestId}`;
}
