import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod/mini';
import {
  consumerView,
  consumerWithAudit,
  listConsumers,
  requestSecretRotation,
  suspendConsumer,
  terminateConsumer,
  type Operator,
} from '../core/admin/consumers.js';
import { resolveOperator, type CallerIdentity, type OperatorEntry } from '../core/admin/operators.js';
import { consumerEvidence } from '../core/admin/evidence.js';
import { ServiceError } from '../core/errors.js';
import { plausibleClientId } from '../core/oauth/client-id.js';
import type { AdminAction } from '../core/metrics.js';
import { evaluate } from '../core/policy/evaluate.js';
import type { Needs } from '../core/services.js';
import { listExceptions, requestView } from '../core/admin/requests.js';
import { ExceptionGrantSchema } from '../core/exceptions/rules.js';
import { requestException } from '../core/requests/request-exception.js';
import { requestReinstatement } from '../core/requests/request-reinstatement.js';
import {
  EvaluateBody,
  ExceptionBody,
  ListConsumersQuery,
  ListExceptionsQuery,
  ListRecertificationsQuery,
  ReasonBody,
  RotateSecretBody,
} from './admin-schemas.js';
import { listRecertifications } from '../core/recertification/listing.js';
import { routeOf } from '../contracts/routes.js';
import { HttpError } from './http/errors.js';
import { jsonObjectBody } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { json } from './http/respond.js';

/**
 * The operator calling: API Gateway has already checked the SigV4 signature (IAM authorization) and names the principal;
 * local mode's server puts its admin identity there after checking the admin token. No identity, no admin call. The
 * operator table (or an IAM Identity Center session name) says which person the principal is.
 */
export function operatorOf(event: APIGatewayProxyEvent, operators: readonly OperatorEntry[] = []): Operator {
  const operator = resolveOperator(event.requestContext?.identity as CallerIdentity | undefined, operators);
  if (!operator) {
    // SigV4's Authorization scheme: in AWS the admin routes take nothing else (local mode's server checks its token first).
    throw new HttpError('unauthorized', 'Admin calls must be signed (IAM SigV4); in local mode, send the admin token printed at start-up.', {
      challenge: 'AWS4-HMAC-SHA256 realm="gatehouse-admin"',
    });
  }
  return operator;
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpError('invalid_request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}

/** The admin API (IAM-authorised routes under /admin); every change is audited under the calling operator, every call that succeeds counted by operation. */
export function createAdminHandler(
  services: Needs<
    'getConsumer' | 'updateConsumer' | 'listAudit' | 'listConsumers' | 'getRequest' | 'listRequests' | 'listAllRequests',
    'clientSecrets' | 'mailer' | 'workflow'
  >,
): HttpLambda {
  const body = (event: APIGatewayProxyEvent): unknown => {
    if (!event.body) throw new HttpError('invalid_request', 'A JSON body is required.');
    return jsonObjectBody(event, services.config.maxBodyBytes).value;
  };
  return httpHandler(services, async (event) => {
    const action = routeOf(event.httpMethod, event.resource)?.adminAction;
    if (!action) throw new HttpError('not_found', `No admin route ${event.httpMethod} ${event.resource}.`);
    const response = await run(action, event);
    services.metrics.record('AdminActions', { action });
    return response;
  });

  async function run(action: AdminAction, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const operator = operatorOf(event, services.config.operators);
    const clientId = event.pathParameters?.['client_id'] ?? '';
    // An id no registration could have issued names nobody (and would exceed the table's key size).
    if (event.pathParameters?.['client_id'] !== undefined && !plausibleClientId(clientId)) throw new ServiceError('not_found', 'No such consumer.');
    switch (action) {
      case 'list_consumers': {
        const q = parse(ListConsumersQuery, event.queryStringParameters ?? {});
        const page = await listConsumers(
          services,
          { status: q.status, tier: q.tier, dormantWithinDays: q.dormant_within_days, expiringWithinDays: q.expiring_within_days },
          { limit: q.limit, next: q.cursor },
        );
        return json(200, { consumers: page.consumers.map(consumerView), ...(page.next ? { next_cursor: page.next } : {}) });
      }
      case 'show_consumer': {
        const { consumer, events, chain } = await consumerWithAudit(services, clientId);
        const requests = await services.requests.listRequests(clientId);
        return json(200, {
          consumer: consumerView(consumer),
          requests: requests.map(requestView),
          audit: { chain_verified: chain.ok, ...(chain.brokenAt ? { broken_at: chain.brokenAt } : {}), events },
        });
      }
      case 'request_reinstatement': {
        const { reason } = parse(ReasonBody, body(event));
        return json(202, { request: requestView(await requestReinstatement(services, operator, clientId, reason)) });
      }
      case 'request_exception': {
        const e = parse(ExceptionBody, body(event));
        const grant = parse(ExceptionGrantSchema, { rule: e.rule, value: e.value });
        const request = await requestException(services, operator, {
          clientId: e.client_id,
          grant,
          justification: e.justification,
          expiresAt: new Date(e.expires_at),
        });
        return json(202, { exception: requestView(request) });
      }
      case 'list_exceptions': {
        const q = parse(ListExceptionsQuery, event.queryStringParameters ?? {});
        const page = await listExceptions(services, { clientId: q.client_id, status: q.status }, { limit: q.limit, next: q.cursor });
        return json(200, { exceptions: page.exceptions.map(requestView), ...(page.next ? { next_cursor: page.next } : {}) });
      }
      case 'evidence':
        return json(200, await consumerEvidence(services, clientId));
      case 'suspend': {
        const { reason } = parse(ReasonBody, body(event));
        return json(200, { consumer: consumerView(await suspendConsumer(services, clientId, operator, reason)) });
      }
      case 'terminate': {
        const { reason } = parse(ReasonBody, body(event));
        return json(200, { consumer: consumerView(await terminateConsumer(services, clientId, operator, reason)) });
      }
      case 'rotate_secret': {
        const { reason, compromised } = parse(RotateSecretBody, body(event));
        const { registrationToken } = await requestSecretRotation(services, clientId, operator, reason, { compromised: compromised === true });
        return json(202, {
          client_id: clientId,
          rotation: 'started',
          requested_by: operator.id,
          ...(operator.person ? { requested_by_person: operator.person } : {}),
          // Shown once, for the operator to hand to the consumer's owner over a channel the leak did not reach.
          ...(registrationToken ? { compromised: true, registration_access_token: registrationToken } : {}),
        });
      }
      case 'list_recertifications': {
        const q = parse(ListRecertificationsQuery, event.queryStringParameters ?? {});
        const page = await listRecertifications(services, q.within_days, { limit: q.limit, next: q.cursor });
        return json(200, { recertifications: page.entries, ...(page.next ? { next_cursor: page.next } : {}) });
      }
      case 'resend_review_links':
        // Served by the review-links function, which holds the signing key and SES that resending needs.
        throw new HttpError('not_found', `No admin route ${event.httpMethod} ${event.resource}.`);
      case 'evaluate_policy': {
        const r = parse(EvaluateBody, body(event));
        const decision = evaluate(
          services.policy,
          {
            tier: r.tier,
            scopes: [...new Set(r.scope.split(' '))],
            dataClasses: r.data_classes,
            purpose: r.purpose,
            expiresAt: r.expires_at === undefined ? undefined : new Date(r.expires_at),
            authMethod: r.token_endpoint_auth_method,
            contacts: r.contacts,
            softwareStatement: r.assume_software_statement ? {} : undefined,
          },
          services.clock.now(),
        );
        return json(200, { dry_run: true, ...decision });
      }
    }
  }
}
