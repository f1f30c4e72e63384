/** A stored RFC-style idempotent response; the secret part is encrypted under a key only the caller holds. */
export interface IdempotencyRecord {
  /** SHA-256 of the Idempotency-Key; the key itself is never stored. */
  readonly keyHash: string;
  /** SHA-256 of the canonical request body, to refuse reuse with another request. */
  readonly requestHash: string;
  readonly statusCode: number;
  /** AES-256-GCM sealed response body (base64url), keyed from the Idempotency-Key. */
  readonly sealedBody: string;
  readonly createdAt: string;
  /** Epoch seconds; DynamoDB TTL removes it. */
  readonly expiresAtEpoch: number;
}

/**
 * Replay markers and idempotency records: short-lived items that expire by TTL. Idempotency records are written with
 * the consumer change they answer (ConsumerStore); here they are only read back.
 */
export interface MarkerStore {
  /**
   * Claims a one-time marker (an assertion or DPoP `jti`, a revoked token id) until `expiresAtEpoch`.
   * Returns false when it is already claimed and not yet expired. A conditional write: safe across instances.
   */
  claimOnce(marker: string, expiresAtEpoch: number, now: Date): Promise<boolean>;
  /** Whether an unexpired marker exists. */
  hasMarker(marker: string, now: Date): Promise<boolean>;
  getIdempotency(keyHash: string): Promise<IdempotencyRecord | undefined>;
}
