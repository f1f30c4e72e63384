// zod's tree-shakable API: the rotation functions validate nothing else with zod.
import * as z from 'zod/mini';
import { ROTATION_STEPS } from '../core/rotation/steps.js';

/** The event Secrets Manager sends a rotation function. */
export const RotationEventSchema = z.object({
  SecretId: z.string().check(z.minLength(1)),
  ClientRequestToken: z.string().check(z.minLength(1)),
  Step: z.enum(ROTATION_STEPS),
});
