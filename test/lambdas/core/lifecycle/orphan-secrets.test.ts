import { describe, expect, it, vi } from 'vitest';
import { ORPHAN_SECRET_MIN_AGE_MS, removeOrphanSecrets, type OrphanSecretServices } from '../../../../lambdas/core/lifecycle/orphan-secrets.js';
import type { ClientSecretInventory, ClientSecretPage } from '../../../../lambdas/core/ports.js';
import { consumerFixture, HOUR_MS, NOW, recordingLog, TestClock } from '../../fixtures.js';

const OLD = new Date(NOW.getTime() - 2 * HOUR_MS);

/** Services with the consumers `existing` in the registry and a recording secret store. */
function services(existing: readonly string[], remove: (clientId: string) => Promise<void> = async () => undefined) {
  const log = recordingLog();
  const getConsumer = vi.fn(async (clientId: string) => (existing.includes(clientId) ? consumerFixture({ clientId }) : undefined));
  const removeSecret = vi.fn(remove);
  const built = { clock: new TestClock(), log, consumers: { getConsumer }, clientSecrets: { remove: removeSecret } } as unknown as OrphanSecretServices;
  return { services: built, log, getConsumer, removeSecret };
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

  it('keeps a secret whose consumer exists', async () => {
    const { services: s, removeSecret } = services(['gh_live']);

    const result = await removeOrphanSecrets(s, inventory([[{ clientId: 'gh_live', createdAt: OLD }]]));

    expect(result).toMatchObject({ checked: 1, deleted: 0 });
    expect(removeSecret).not.toHaveBeenCalled();
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
