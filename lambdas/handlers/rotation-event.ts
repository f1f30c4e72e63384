import * as z from 'zod';
import { ROTATION_STEPS } from '../core/rotation/steps.js';

/** The event Secrets Manager sends a rotation function. */
export const RotationEventSchema = z.object({
  SecretId: z.string().min(1),
  ClientRequestToken: z.string().min(1),
  Step: z.enum(ROTATION_STEPS),
});
