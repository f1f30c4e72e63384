export type RegistryErrorCode = 'already_exists' | 'condition_failed' | 'unavailable';

/** A registry write that did not happen; nothing was written when this is thrown. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
