import * as z from 'zod/mini';
import '../util/zod-messages.js';
import { AUTH_METHODS, TIERS } from './levels.js';

/**
 * The policy vocabularies request schemas name, as `zod/mini` enums: registration and the admin API validate with them
 * and carry no chainable zod (lambdas/core/util/zod-messages.ts). schema.ts embeds the same enums in the policy document
 * schema, which is validated at synth time.
 */
export const AuthMethodSchema = z.enum(AUTH_METHODS);
export const TierSchema = z.enum(TIERS);
