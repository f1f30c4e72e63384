import { routeOf } from '../contracts/routes.js';
import { ServiceError } from '../core/errors.js';
import { plausibleClientId } from '../core/oauth/client-id.js';
import { resendReviewLinks, type ResendLinksServices } from '../core/review/resend-links.js';
import type { Services } from '../core/services.js';
import { signingKeysFor } from '../core/tokens/signing-keys.js';
import { operatorOf } from './admin.js';
import { jsonObjectBody } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { json } from './http/respond.js';

/**
 * An operator's resend of review links (IAM-authorised, like the admin API): fresh single-use links to the reviewers of
 * the open round of a pending registration, or of one of its change requests, and the list of who got them.
 */
export function createReviewLinksHandler(services: ResendLinksServices & Pick<Services, 'vault'>): HttpLambda {
  const keys = signingKeysFor(services);
  return httpHandler(services, async (event) => {
    const operator = operatorOf(event, services.config.operators);
    // No body is needed; one that is sent is held to the same limits and format as every admin route's.
    if (event.body) jsonObjectBody(event, services.config.maxBodyBytes);
    const clientId = event.pathParameters?.['client_id'] ?? '';
    if (!plausibleClientId(clientId)) throw new ServiceError('not_found', 'No such consumer.');
    const requestId = event.pathParameters?.['request_id'];
    // Request ids are short like client ids; a longer one names nothing (and would exceed the table's key size).
    if (requestId !== undefined && !plausibleClientId(requestId)) throw new ServiceError('not_found', 'No such request.');
    const resent = await resendReviewLinks(services, keys, operator, { clientId, ...(requestId !== undefined ? { requestId } : {}) });
    const action = routeOf(event.httpMethod, event.resource)?.adminAction ?? 'resend_review_links';
    services.metrics.record('AdminActions', { action });
    return json(200, {
      client_id: clientId,
      ...(requestId !== undefined ? { request_id: requestId } : {}),
      review_id: resent.reviewId,
      round: resent.round,
      deadline: resent.deadline,
      recipients: resent.recipients,
      ...(resent.notSent.length > 0 ? { not_sent: resent.notSent } : {}),
      resent_by: operator.id,
      ...(operator.person ? { resent_by_person: operator.person } : {}),
    });
  });
}
