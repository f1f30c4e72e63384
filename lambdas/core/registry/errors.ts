import { GatehouseError } from '../errors.js';

export type RegistryErrorCode = 'already_exists' | 'condition_failed' | 'unavailable' | 'invalid_cursor';

/** Which part of a transaction broke its condition: the consumer record, an audit event, or the idempotency record. */
export type RegistryItem = 'consumer' | 'audit' | 'idempotency' | 'marker' | 'review' | 'request' | 'revocation';

/** A registry operation that failed; nothing was written, unless `outcomeUnknown` says that cannot be known. */
export class RegistryError extends GatehouseError<RegistryErrorCode> {
  override readonly name = 'RegistryError';
  /** For `condition_failed`: the item whose condition failed, when known. */
  readonly item: RegistryItem | undefined;
  /** For `unavailable`: the write was sent but never confirmed (a time-out, a dropped connection), so it may have applied. */
  readonly outcomeUnknown: boolean;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown; item?: RegistryItem; outcomeUnknown?: boolean }) {
    super(code, message, options);
    this.item = options?.item;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}
