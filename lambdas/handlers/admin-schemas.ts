import * as z from 'zod/mini';
import '../core/util/zod-messages.js';
import { CONSUMER_STATUSES } from '../core/consumer/consumer.js';
import { EXCEPTION_RULES } from '../core/exceptions/rules.js';
import { REQUEST_STATUSES } from '../core/requests/change-request.js';
import { AuthMethodSchema, TierSchema } from '../core/policy/level-schemas.js';
import { ClientMetadataSchema, PROSE } from '../core/registration/metadata.js';

/**
 * Request schemas of the admin API (lambdas/handlers/admin.ts), exported so the OpenAPI document is generated from the
 * very schemas the handler parses with. zod/mini, like the registration schemas they extend.
 */

/** Body of suspend, terminate, rotate-secret and reinstate: why the operator acts (audited). */
export const ReasonBody = z.object({ reason: z.string().check(z.trim(), z.minLength(3), z.maxLength(500), PROSE) });

/** Body of rotate-secret: the reason, and whether the secret is known or suspected to be compromised (no grace window). */
export const RotateSecretBody = z.object({ reason: ReasonBody.shape.reason, compromised: z.optional(z.boolean()) });

const days = (max: number) => z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(max)));
const pageSize = z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500)), 100);

/** Query of `GET /admin/consumers`. */
export const ListConsumersQuery = z.object({
  status: z.optional(z.enum(CONSUMER_STATUSES)),
  tier: z.optional(TierSchema),
  dormant_within_days: days(365),
  expiring_within_days: days(1095),
  limit: pageSize,
  cursor: z.optional(z.string().check(z.maxLength(2000))),
});

/** A dry run: the registration metadata the policy reads, and whether to assume a verified software statement. */
export const EvaluateBody = z.extend(
  z.pick(ClientMetadataSchema, { scope: true, purpose: true, data_classes: true, expires_at: true, contacts: true, token_endpoint_auth_method: true }),
  {
    tier: TierSchema,
    assume_software_statement: z._default(z.boolean(), false),
  },
);

const isoDateTime = z.iso.datetime({ offset: true });

/** Body of `POST /admin/exceptions`: one consumer, one rule, the value allowed instead, why, and until when. */
export const ExceptionBody = z.strictObject({
  client_id: z.string().check(z.minLength(1), z.maxLength(200)),
  rule: z.enum(EXCEPTION_RULES),
  value: z.union([AuthMethodSchema, z.literal('none'), z.number().check(z.int())]),
  justification: z.string().check(z.trim(), z.minLength(20), z.maxLength(2000), PROSE),
  expires_at: isoDateTime,
});

/** Query of `GET /admin/recertifications`: what falls due within `within_days` (besides what is due or overdue now). */
export const ListRecertificationsQuery = z.object({
  within_days: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(365)), 30),
  limit: pageSize,
  cursor: z.optional(z.string().check(z.maxLength(2000))),
});

/** Query of `GET /admin/exceptions`. */
export const ListExceptionsQuery = z.object({
  client_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  status: z.optional(z.enum(REQUEST_STATUSES)),
  limit: pageSize,
  cursor: z.optional(z.string().check(z.maxLength(2000))),
});
