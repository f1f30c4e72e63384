import * as z from 'zod';
import { CONSUMER_STATUSES } from '../core/consumer/consumer.js';
import { EXCEPTION_RULES } from '../core/exceptions/rules.js';
import { REQUEST_STATUSES } from '../core/requests/change-request.js';
import { AuthMethodSchema, TierSchema } from '../core/policy/schema.js';
import { ClientMetadataSchema } from '../core/registration/metadata.js';

/**
 * Request schemas of the admin API (lambdas/handlers/admin.ts), exported so the OpenAPI document is generated from the
 * very schemas the handler parses with.
 */

/** Body of suspend, terminate, rotate-secret and reinstate: why the operator acts (audited). */
export const ReasonBody = z.object({ reason: z.string().trim().min(3).max(500) });

/** Query of `GET /admin/consumers`. */
export const ListConsumersQuery = z.object({
  status: z.enum(CONSUMER_STATUSES).optional(),
  tier: TierSchema.optional(),
  dormant_within_days: z.coerce.number().int().min(0).max(365).optional(),
  expiring_within_days: z.coerce.number().int().min(0).max(1095).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2000).optional(),
});

/** A dry run: the registration metadata the policy reads, and whether to assume a verified software statement. */
export const EvaluateBody = ClientMetadataSchema.pick({ scope: true, purpose: true, data_classes: true, expires_at: true, contacts: true, token_endpoint_auth_method: true }).extend({
  tier: TierSchema,
  assume_software_statement: z.boolean().default(false),
});

const isoDateTime = z.iso.datetime({ offset: true });

/** Body of `POST /admin/exceptions`: one consumer, one rule, the value allowed instead, why, and until when. */
export const ExceptionBody = z.strictObject({
  client_id: z.string().min(1).max(200),
  rule: z.enum(EXCEPTION_RULES),
  value: z.union([AuthMethodSchema, z.literal('none'), z.number().int()]),
  justification: z.string().trim().min(20).max(2000),
  expires_at: isoDateTime,
});

/** Query of `GET /admin/exceptions`. */
export const ListExceptionsQuery = z.object({
  client_id: z.string().min(1).max(200).optional(),
  status: z.enum(REQUEST_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(2000).optional(),
});
