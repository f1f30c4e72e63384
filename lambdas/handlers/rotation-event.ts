import * as z from 'zod/mini';
import '../core/util/zod-messages.js';
import { ROTATION_STEPS } from '../core/rotation/steps.js';

/** The event Secrets Manager sends a rotation function. */
export const RotationEventSchema = z.object({
  SecretId: z.string().check(z.minLength(1)),
  ClientRequestToken: z.string().check(z.minLength(1)),
  Step: z.enum(ROTATION_STEPS),
});
