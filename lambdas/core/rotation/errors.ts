import { GatehouseError } from '../errors.js';

export type RotationErrorCode = 'no_current_version' | 'version_not_pending' | 'test_failed' | 'unknown_step' | 'rotation_too_soon' | 'consumer_not_rotatable';

/** A rotation step that must not go on; Secrets Manager retries the step and AWSCURRENT stays as it was. */
export class RotationError extends GatehouseError<RotationErrorCode> {
  override readonly name = 'RotationError';
}
