import * as z from 'zod/mini';
import '../util/zod-messages.js';

/**
 * The policy requirements an exception can relax, one per exception, for one consumer, for a limited time. Each names
 * what the consumer may do instead of what its risk requires:
 * - `auth_method`: authenticate with a client secret where the risk wants private_key_jwt (a legacy client);
 * - `sender_constraint`: tokens without DPoP where the risk wants DPoP (`none`);
 * - `dormancy_days`: a longer dormancy window (a quarterly batch job);
 * - `access_token_ttl_seconds`: longer-lived access tokens.
 */
export const EXCEPTION_RULES = ['auth_method', 'sender_constraint', 'dormancy_days', 'access_token_ttl_seconds'] as const;
export type ExceptionRule = (typeof EXCEPTION_RULES)[number];

/** One rule with the value it allows instead, checked at the boundary (zod/mini: the admin function parses with it). */
export const ExceptionGrantSchema = z.discriminatedUnion('rule', [
  z.strictObject({ rule: z.literal('auth_method'), value: z.enum(['client_secret_basic', 'client_secret_post']) }),
  z.strictObject({ rule: z.literal('sender_constraint'), value: z.literal('none') }),
  z.strictObject({ rule: z.literal('dormancy_days'), value: z.number().check(z.int(), z.minimum(1), z.maximum(730)) }),
  z.strictObject({ rule: z.literal('access_token_ttl_seconds'), value: z.number().check(z.int(), z.minimum(60), z.maximum(86_400)) }),
]);
export type ExceptionGrant = z.infer<typeof ExceptionGrantSchema>;
