import type { AuditEvent } from '../audit/event.js';

/** An append-only, hash-chained audit stream that is not about one consumer (e.g. `signing-key`). */
export interface SystemAuditLog {
  /** Appends the next event of the stream (its `clientId` is `system:<stream>`); a concurrent append is re-chained. */
  appendSystemAudit(stream: string, event: Pick<AuditEvent, 'type' | 'at' | 'actor' | 'data'>): Promise<AuditEvent>;
  listSystemAudit(stream: string): Promise<AuditEvent[]>;
}
