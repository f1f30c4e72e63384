import type { APIGatewayProxyEvent } from 'aws-lambda';
import { consumerView, consumerWithAudit, requestSecretRotation, type Operator } from '../core/admin/consumers.js';
import type { Services } from '../core/services.js';
import { HttpError } from './http/errors.js';
import { jsonObjectBody } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { json } from './http/respond.js';

/**
 * The operator calling: API Gateway has already checked the SigV4 signature (IAM authorization) and names the principal;
 * local mode's server puts its admin identity there after checking the admin token. No identity, no admin call.
 */
export function operatorOf(event: APIGatewayProxyEvent): Operator {
  const identity = event.requestContext?.identity as { userArn?: string | null; caller?: string | null } | undefined;
  const id = identity?.userArn ?? identity?.caller ?? undefined;
  if (!id) throw new HttpError('unauthorized', 'Admin calls must be signed (IAM SigV4); in local mode, send the admin token printed at start-up.');
  return { id };
}

function reasonOf(event: APIGatewayProxyEvent, maxBytes: number): string {
  if (!event.body) throw new HttpError('invalid_request', 'A JSON body with a "reason" is required: admin changes are audited with why.');
  const { value } = jsonObjectBody(event, maxBytes);
  const reason = value['reason'];
  if (typeof reason !== 'string' || reason.trim().length < 3 || reason.length > 500) {
    throw new HttpError('invalid_request', '"reason" must be a string of 3 to 500 characters.');
  }
  return reason.trim();
}

/** The admin API (IAM-authorised routes under /admin). */
export function createAdminHandler(services: Services): HttpLambda {
  return httpHandler(services, async (event) => {
    const operator = operatorOf(event);
    const clientId = event.pathParameters?.['client_id'] ?? '';
    switch (`${event.httpMethod} ${event.resource}`) {
      case 'GET /admin/consumers/{client_id}': {
        const { consumer, events, chain } = await consumerWithAudit(services, clientId);
        return json(200, { consumer: consumerView(consumer), audit: { chainVerified: chain.ok, ...(chain.brokenAt ? { brokenAt: chain.brokenAt } : {}), events } });
      }
      case 'POST /admin/consumers/{client_id}/rotate-secret': {
        const reason = reasonOf(event, services.config.maxBodyBytes);
        await requestSecretRotation(services, clientId, operator, reason);
        return json(202, { client_id: clientId, rotation: 'started', requested_by: operator.id });
      }
      default:
        throw new HttpError('not_found', `No admin route ${event.httpMethod} ${event.resource}.`);
    }
  });
}
