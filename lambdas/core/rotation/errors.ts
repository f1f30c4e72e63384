export type RotationErrorCode = 'no_current_version' | 'version_not_pending' | 'test_failed' | 'unknown_step' | 'rotation_too_soon' | 'consumer_not_rotatable';

/** A rotation step that must not go on; Secrets Manager retries the step and AWSCURRENT stays as it was. */
export class RotationError extends Error {
  override readonly name = 'RotationError';
  readonly code: RotationErrorCode;

  constructor(code: RotationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
