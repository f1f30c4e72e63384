import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { consumerView, consumerWithAudit, listConsumers, requestSecretRotation, suspendConsumer, terminateConsumer, type Operator } from '../core/admin/consumers.js';
import { consumerEvidence } from '../core/admin/evidence.js';
import { CONSUMER_STATUSES } from '../core/consumer/consumer.js';
import { evaluate } from '../core/policy/evaluate.js';
import { TierSchema } from '../core/policy/schema.js';
import { ClientMetadataSchema } from '../core/registration/metadata.js';
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

const ReasonBody = z.object({ reason: z.string().trim().min(3).max(500) });

const ListQuery = z.object({
  status: z.enum(CONSUMER_STATUSES).optional(),
  tier: TierSchema.optional(),
  dormant_within_days: z.coerce.number().int().min(0).max(365).optional(),
  expiring_within_days: z.coerce.number().int().min(0).max(1095).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2000).optional(),
});

/** A dry run: the registration metadata the policy reads, and whether to assume a verified software statement. */
const EvaluateBody = ClientMetadataSchema.pick({ scope: true, purpose: true, data_classes: true, expires_at: true, contacts: true, token_endpoint_auth_method: true }).extend({
  tier: TierSchema,
  assume_software_statement: z.boolean().default(false),
});

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new HttpError('invalid_request', result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}

/** The admin API (IAM-authorised routes under /admin); every change is audited under the calling operator. */
export function createAdminHandler(services: Services): HttpLambda {
  const body = (event: APIGatewayProxyEvent): unknown => {
    if (!event.body) throw new HttpError('invalid_request', 'A JSON body is required.');
    return jsonObjectBody(event, services.config.maxBodyBytes).value;
  };
  return httpHandler(services, async (event) => {
    const operator = operatorOf(event);
    const clientId = event.pathParameters?.['client_id'] ?? '';
    switch (`${event.httpMethod} ${event.resource}`) {
      case 'GET /admin/consumers': {
        const q = parse(ListQuery, event.queryStringParameters ?? {});
        const page = await listConsumers(
          services,
          { status: q.status, tier: q.tier, dormantWithinDays: q.dormant_within_days, expiringWithinDays: q.expiring_within_days },
          { limit: q.limit, next: q.cursor },
        );
        return json(200, { consumers: page.consumers.map(consumerView), ...(page.next ? { next_cursor: page.next } : {}) });
      }
      case 'GET /admin/consumers/{client_id}': {
        const { consumer, events, chain } = await consumerWithAudit(services, clientId);
        return json(200, { consumer: consumerView(consumer), audit: { chain_verified: chain.ok, ...(chain.brokenAt ? { broken_at: chain.brokenAt } : {}), events } });
      }
      case 'GET /admin/consumers/{client_id}/evidence':
        return json(200, await consumerEvidence(services, clientId));
      case 'POST /admin/consumers/{client_id}/suspend': {
        const { reason } = parse(ReasonBody, body(event));
        return json(200, { consumer: consumerView(await suspendConsumer(services, clientId, operator, reason)) });
      }
      case 'POST /admin/consumers/{client_id}/terminate': {
        const { reason } = parse(ReasonBody, body(event));
        return json(200, { consumer: consumerView(await terminateConsumer(services, clientId, operator, reason)) });
      }
      case 'POST /admin/consumers/{client_id}/rotate-secret': {
        const { reason } = parse(ReasonBody, body(event));
        await requestSecretRotation(services, clientId, operator, reason);
        return json(202, { client_id: clientId, rotation: 'started', requested_by: operator.id });
      }
      case 'POST /admin/policy/evaluate': {
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
      default:
        throw new HttpError('not_found', `No admin route ${event.httpMethod} ${event.resource}.`);
    }
  });
}
