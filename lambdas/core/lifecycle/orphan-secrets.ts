import type { ClientSecretInventory } from '../ports/client-secret-inventory.js';
import type { Needs } from '../services.js';

/**
 * How old a client secret must be before a missing consumer makes it an orphan. Registration stores the secret before the
 * consumer, so a younger secret may belong to a registration still in flight; an hour is far beyond any request's life.
 */
export const ORPHAN_SECRET_MIN_AGE_MS = 60 * 60 * 1000;

/**
 * What the clean-up touches: the consumer lookup and the client secrets (an orphan's removal schedules deletion after a
 * recovery window; a secret retired by a move to keys is discarded at once, as the move itself does).
 */
export type OrphanSecretServices = Needs<'getConsumer', 'clientSecrets'>;

export interface OrphanSecretOptions {
  /** @default ORPHAN_SECRET_MIN_AGE_MS */
  readonly minAgeMs?: number;
  /** Whether there is time for more work (the sweep's deadline); checked before each page and each secret. */
  readonly timeLeft?: () => boolean;
}

export interface OrphanSecretResult {
  /** Secrets old enough to be checked against the registry. */
  readonly checked: number;
  /** Secrets with no consumer (scheduled for deletion) or whose consumer moved to keys (deleted). */
  readonly deleted: number;
  /** Secrets that could not be checked or removed; the next run retries them. */
  readonly failed: number;
  /** False when it stopped for time with secrets left; the next run starts over. */
  readonly complete: boolean;
}

/**
 * Schedules the deletion of client secrets whose consumer does not exist: a registration that failed after storing its
 * secret (its outcome unknown, say) leaves one, which nobody can use and which bills until removed. Also deletes the
 * secret of a consumer that moved to key authentication when the move could not delete it: the registry keeps only the
 * retired secret's hash for its grace, so the stored value is never delivered again, and its scheduled rotation would
 * only fail. Secrets younger than the minimum age are never touched (a move back to a secret stores one before it
 * commits), and neither is the secret of a consumer that still authenticates with one, in any state (a revoked
 * consumer's secret is removed with the revocation).
 */
export async function removeOrphanSecrets(
  services: OrphanSecretServices,
  inventory: ClientSecretInventory,
  options: OrphanSecretOptions = {},
): Promise<OrphanSecretResult> {
  const counts = { checked: 0, deleted: 0, failed: 0 };
  const timeLeft = options.timeLeft ?? (() => true);
  const cutoff = services.clock.now().getTime() - (options.minAgeMs ?? ORPHAN_SECRET_MIN_AGE_MS);
  let next: string | undefined;
  do {
    if (!timeLeft()) return { ...counts, complete: false };
    const page = await inventory.listClientSecrets(next);
    for (const secret of page.secrets) {
      if (secret.createdAt.getTime() > cutoff) continue;
      if (!timeLeft()) return { ...counts, complete: false };
      counts.checked++;
      try {
        const consumer = await services.consumers.getConsumer(secret.clientId);
        if (consumer && consumer.authMethod !== 'private_key_jwt') continue;
        if (consumer) {
          await services.clientSecrets.discard(secret.clientId);
          services.log.warn('sweep deleted the client secret of a consumer that moved to key authentication', {
            clientId: secret.clientId,
            secretCreatedAt: secret.createdAt.toISOString(),
          });
        } else {
          await services.clientSecrets.remove(secret.clientId);
          services.log.warn('sweep scheduled an orphaned client secret for deletion (no consumer was ever committed for it)', {
            clientId: secret.clientId,
            secretCreatedAt: secret.createdAt.toISOString(),
          });
        }
        counts.deleted++;
      } catch (error) {
        counts.failed++;
        services.log.error('sweep could not check or remove a client secret', {
          clientId: secret.clientId,
          error: (error as Error).name,
          message: (error as Error).message,
        });
      }
    }
    next = page.next;
  } while (next !== undefined);
  return { ...counts, complete: true };
}
