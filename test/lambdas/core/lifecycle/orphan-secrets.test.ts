import { describe, expect, it, vi } from 'vitest';
import { ORPHAN_SECRET_MIN_AGE_MS, removeOrphanSecrets, type OrphanSecretServices } from '../../../../lambdas/core/lifecycle/orphan-secrets.js';
import type { ClientSecretInventory, ClientSecretPage } from '../../../../lambdas/core/ports.js';
import { consumerFixture, HOUR_MS, NOW, recordingLog, TestClock } from '../../fixtures.js';

const OLD = new Date(NOW.getTime() - 2 * HOUR_MS);

/** Services with the consumers `existing` (client_secret_basic) and `keyBound` (private_key_jwt) in the registry and a recording secret store. */
function services(existing: readonly string[], remove: (clientId: string) => Promise<void> = async () => undefined, keyBound: readonly string[] = []) {
  const log = recordingLog();
  const getConsumer = vi.fn(async (clientId: string) =>
    existing.includes(clientId)
      ? consumerFixture({ clientId })
      : keyBound.includes(clientId)
        ? consumerFixture({ clientId, authMethod: 'private_key_jwt', secretHash: undefined })
        : undefined,
  );
  const removeSecret = vi.fn(remove);
  const discardSecret = vi.fn(async (_clientId: string) => undefined);
  const built = {
    clock: new TestClock(),
    log,
    consumers: { getConsumer },
    clientSecrets: { remove: removeSecret, discard: discardSecret },
  } as unknown as OrphanSecretServices;
  return { services: built, log, getConsumer, removeSecret, discardSecret };
}

/** An inventory serving `pages` in order, the page token being the next page's index. */
function inventory(pages: ClientSecretPage['secrets'][]): ClientSecretInventory & { listClientSecrets: ReturnType<typeof vi.fn> } {
  return {
    listClientSecrets: vi.fn(async (next?: string) => {
      const i = next === undefined ? 0 : Number(next);
      return { secrets: pages[i]!, ...(i + 1 < pages.length ? { next: String(i + 1) } : {}) };
    }),
  };
}

describe('removeOrphanSecrets', () => {
  it('schedules the deletion of an old secret whose consumer was never committed, and logs it', async () => {
    const { services: s, log, removeSecret } = services([]);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_orphan', createdAt: OLD }]]));

    expect(result).toEqual({ checked: 1, deleted: 1, failed: 0, complete: true });
    expect(removeSecret).toHaveBeenCalledWith('gh_orphan');
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('orphaned client secret'), expect.objectContaining({ clientId: 'gh_orphan' }));
  });

  it('keeps a secret younger than the safety age without looking it up: its registration may still be in flight', async () => {
    const { services: s, getConsumer, removeSecret } = services([]);
    const young = new Date(NOW.getTime() - ORPHAN_SECRET_MIN_AGE_MS + 1000);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_inflight', createdAt: young }]]));

    expect(result).toEqual({ checked: 0, deleted: 0, failed: 0, complete: true });
    expect(getConsumer).not.toHaveBeenCalled();
    expect(removeSecret).not.toHaveBeenCalled();
  });

  it('keeps a secret whose consumer exists and authenticates with a secret', async () => {
    const { services: s, removeSecret, discardSecret } = services(['gh_live']);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_live', createdAt: OLD }]]));

    expect(result).toMatchObject({ checked: 1, deleted: 0 });
    expect(removeSecret).not.toHaveBeenCalled();
    expect(discardSecret).not.toHaveBeenCalled();
  });

  it('deletes at once the old secret of a consumer that moved to key authentication (the move could not delete it)', async () => {
    const { services: s, log, removeSecret, discardSecret } = services([], undefined, ['gh_moved']);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_moved', createdAt: OLD }]]));

    expect(result).toEqual({ checked: 1, deleted: 1, failed: 0, complete: true });
    expect(discardSecret).toHaveBeenCalledWith('gh_moved');
    expect(removeSecret).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalledWith(expect.stringContaining('moved to key authentication'), expect.objectContaining({ clientId: 'gh_moved' }));
  });

  it('keeps a young secret of a key-bound consumer: a move back to a secret stores it before it commits', async () => {
    const { services: s, discardSecret } = services([], undefined, ['gh_moving']);
    const young = new Date(NOW.getTime() - ORPHAN_SECRET_MIN_AGE_MS + 1000);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_moving', createdAt: young }]]));

    expect(result).toMatchObject({ checked: 0, deleted: 0 });
    expect(discardSecret).not.toHaveBeenCalled();
  });

  it('follows every page of the listing', async () => {
    const { services: s, removeSecret } = services(['gh_live']);
    const listing = inventory([
      [
        { clientId: 'gh_live', createdAt: OLD },
        { clientId: 'gh_orphan1', createdAt: OLD },
      ],
      [{ clientId: 'gh_orphan2', createdAt: OLD }],
    ]);

    const result = await removeOrphanSecrets(s, listing);

    expect(listing.listClientSecrets.mock.calls).toEqual([[undefined], ['1']]);
    expect(removeSecret.mock.calls).toEqual([['gh_orphan1'], ['gh_orphan2']]);
    expect(result).toEqual({ checked: 3, deleted: 2, failed: 0, complete: true });
  });

  it('counts a secret it could not remove as failed and goes on with the others', async () => {
    const {
      services: s,
      log,
      removeSecret,
    } = services([], async (clientId) => {
      if (clientId === 'gh_bad') throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
    });

    const result = await removeOrphanSecrets(
      s,
      inventory([
        [
          { clientId: 'gh_bad', createdAt: OLD },
          { clientId: 'gh_orphan', createdAt: OLD },
        ],
      ]),
    );

    expect(result).toEqual({ checked: 2, deleted: 1, failed: 1, complete: true });
    expect(removeSecret).toHaveBeenLastCalledWith('gh_orphan');
    expect(log.error).toHaveBeenCalledWith(expect.any(String), expect.objectContaining({ clientId: 'gh_bad', error: 'ThrottlingException' }));
  });

  it('stops without listing when no time is left', async () => {
    const { services: s } = services([]);
    const listing = inventory([[{ clientId: 'gh_orphan', createdAt: OLD }]]);

    const result = await removeOrphanSecrets(s, listing, { timeLeft: () => false });

    expect(result).toEqual({ checked: 0, deleted: 0, failed: 0, complete: false });
    expect(listing.listClientSecrets).not.toHaveBeenCalled();
  });
});
