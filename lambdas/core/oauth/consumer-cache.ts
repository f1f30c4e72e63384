import type { Consumer } from '../consumer/consumer.js';
import type { Clock, ConsumerStore } from '../ports.js';

/** Every cache of this process, so that a change made here reaches them all at once (weakly held: a dropped handler's cache goes). */
const caches = new Set<WeakRef<ConsumerCache>>();

/**
 * Forgets a client in every consumer cache of this process: a suspension or revocation made here bites its token
 * endpoints at once (local mode runs them all in one process). Other instances still serve their copy for up to `ttlMs`,
 * which the revocation list's `since` covers.
 */
export function forgetConsumerEverywhere(clientId: string): void {
  for (const ref of caches) {
    const cache = ref.deref();
    if (cache) cache.forget(clientId);
    else caches.delete(ref);
  }
}

/**
 * A per-instance, short-lived cache of consumer records for the token path: at most one registry read per client per `ttlMs`.
 * The price is that a suspension or revocation reaches a warm instance at most `ttlMs` later (documented in the README).
 * Ids that name no client are remembered too, for as long, so an unknown id is answered as fast as a known one and a
 * caller cannot tell which ids exist by timing; they live in their own bounded map so a flood of made-up ids never
 * evicts real clients.
 */
export class ConsumerCache {
  readonly #consumers: Pick<ConsumerStore, 'getConsumer'>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { at: number; consumer: Consumer }>();
  readonly #unknown = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<Consumer | undefined>>();

  constructor(consumers: Pick<ConsumerStore, 'getConsumer'>, clock: Clock, ttlMs: number, maxEntries = 10_000) {
    this.#consumers = consumers;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
    caches.add(new WeakRef(this));
  }

  async get(clientId: string): Promise<Consumer | undefined> {
    const now = this.#clock.now().getTime();
    const hit = this.#entries.get(clientId);
    if (hit && now - hit.at < this.#ttlMs) return hit.consumer;
    const missedAt = this.#unknown.get(clientId);
    if (missedAt !== undefined && now - missedAt < this.#ttlMs) return undefined;
    // Requests that arrive while the record is being read share that one read.
    const pending = this.#inFlight.get(clientId);
    if (pending) return pending;
    const read = this.#load(clientId, now);
    this.#inFlight.set(clientId, read);
    try {
      return await read;
    } finally {
      this.#inFlight.delete(clientId);
    }
  }

  async #load(clientId: string, now: number): Promise<Consumer | undefined> {
    const consumer = await this.#consumers.getConsumer(clientId);
    this.#entries.delete(clientId);
    this.#unknown.delete(clientId);
    if (this.#ttlMs > 0) {
      if (consumer) remember(this.#entries, this.#maxEntries, clientId, { at: now, consumer });
      else remember(this.#unknown, this.#maxEntries, clientId, now);
    }
    return consumer;
  }

  /** Forgets a client, e.g. after this instance changed it. */
  forget(clientId: string): void {
    this.#entries.delete(clientId);
    this.#unknown.delete(clientId);
  }
}

/** Adds an entry, dropping the oldest one first when the map is full. */
function remember<V>(map: Map<string, V>, maxEntries: number, key: string, value: V): void {
  if (map.size >= maxEntries) map.delete(map.keys().next().value!);
  map.set(key, value);
}
