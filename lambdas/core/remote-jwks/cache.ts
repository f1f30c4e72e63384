import type { Clock } from '../ports.js';
import type { RemoteKeySets } from '../ports/remote-key-sets.js';
import { RemoteKeySetError } from './errors.js';
import { parseRemoteKeySet, type RemoteKeySet } from './key-set.js';

/** The longest a fetched key set may be trusted, whatever the policy says (UAE Open Finance asks for at most 20 minutes). */
export const MAX_KEY_SET_AGE_SECONDS = 1200;
/** How long a key set is trusted when the policy says nothing. */
export const DEFAULT_KEY_SET_AGE_SECONDS = 600;
/** At most one fetch per client in this interval for an unknown `kid`, or after a failed fetch. */
export const REFETCH_INTERVAL_MS = 60_000;
/** Clients whose sets one instance keeps; the least recently fetched is dropped beyond it. */
const MAX_ENTRIES = 1000;

interface Entry {
  readonly url: string;
  /** The last good set and when it was fetched; absent until a fetch succeeds. */
  set?: RemoteKeySet;
  fetchedAt?: number;
  /** When the last fetch started, good or bad: what the refetch interval counts from. */
  attemptedAt: number;
  /** The last fetch's failure, answered again until the refetch interval has passed. */
  failure?: RemoteKeySetError;
  inFlight?: Promise<RemoteKeySet>;
}

/** What one lookup gave, and whether it went to the network (for the log). */
export interface KeySetLookup {
  readonly set: RemoteKeySet;
  readonly fetched: 'no' | 'expired' | 'unknown_kid';
}

/**
 * Per-instance cache of clients' published key sets. A set is trusted for at most `maxAgeSeconds` (a key the partner
 * withdrew stops working within that bound, and a set that cannot be refetched then fails closed). An assertion naming a
 * `kid` the set lacks triggers one refetch (the partner has just published a new key), at most once a minute per client,
 * so a stream of made-up `kid`s cannot make Gatehouse hammer the partner's server; failures are rate-limited the same way.
 */
export class RemoteKeySetCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly fetcher: RemoteKeySets,
    private readonly clock: Clock,
    private readonly maxAgeSeconds: number,
  ) {}

  /** The key set of `clientId` published at `url`, fresh enough for an assertion signed with `kid`. Throws RemoteKeySetError. */
  async keysFor(clientId: string, url: string, kid: string | undefined): Promise<KeySetLookup> {
    const now = this.clock.now().getTime();
    let entry = this.entries.get(clientId);
    if (entry === undefined || entry.url !== url) {
      entry = { url, attemptedAt: -Infinity };
      this.remember(clientId, entry);
    }
    if (entry.inFlight !== undefined) return { set: await entry.inFlight, fetched: 'no' };
    const mayRefetch = now - entry.attemptedAt >= REFETCH_INTERVAL_MS;
    const fresh = entry.set !== undefined && now - entry.fetchedAt! < Math.min(this.maxAgeSeconds, MAX_KEY_SET_AGE_SECONDS) * 1000;
    if (!fresh) {
      if (!mayRefetch && entry.failure !== undefined) throw entry.failure;
      return { set: await this.fetch(entry, now), fetched: 'expired' };
    }
    const known = kid === undefined || entry.set!.keys.some((k) => k.kid === kid);
    if (known || !mayRefetch) return { set: entry.set!, fetched: 'no' };
    try {
      return { set: await this.fetch(entry, now), fetched: 'unknown_kid' };
    } catch {
      // The set in hand is still within its age: the assertion is judged against it (and fails for want of the kid).
      return { set: entry.set!, fetched: 'no' };
    }
  }

  /** Fetches now, bypassing the cache: registration checks what the URL serves before storing it. */
  async fetchNow(url: string): Promise<RemoteKeySet> {
    return parseRemoteKeySet(await this.fetcher.fetchJson(url));
  }

  private async fetch(entry: Entry, now: number): Promise<RemoteKeySet> {
    entry.attemptedAt = now;
    entry.inFlight = this.fetchNow(entry.url);
    try {
      const set = await entry.inFlight;
      entry.set = set;
      entry.fetchedAt = now;
      entry.failure = undefined;
      return set;
    } catch (error) {
      const failure = error instanceof RemoteKeySetError ? error : new RemoteKeySetError('unreachable', 'the key set could not be fetched', { cause: error });
      entry.failure = failure;
      throw failure;
    } finally {
      entry.inFlight = undefined;
    }
  }

  private remember(clientId: string, entry: Entry): void {
    this.entries.delete(clientId);
    this.entries.set(clientId, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}
