export type RegistryErrorCode = 'already_exists' | 'condition_failed' | 'unavailable' | 'invalid_cursor';

/** Which part of a transaction broke its condition: the consumer record, an audit event, or the idempotency record. */
export type RegistryItem = 'consumer' | 'audit' | 'idempotency' | 'marker' | 'review' | 'request' | 'revocation';

/** A registry write that did not happen; nothing was written when this is thrown. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;
  /** For `condition_failed`: the item whose condition failed, when known. */
  readonly item: RegistryItem | undefined;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown; item?: RegistryItem }) {
    super(message, options);
    this.code = code;
    this.item = options?.item;
  }
}
