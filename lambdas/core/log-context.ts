import { AsyncLocalStorage } from 'node:async_hooks';

/** Keys added to every log line written inside a `withLogKeys` scope (and whatever it awaits). */
export type LogKeys = Readonly<Record<string, string>>;

const scope = new AsyncLocalStorage<LogKeys>();

/**
 * Runs `fn` with `keys` (e.g. `correlation_id`) added to every log line the Log adapters write during it, including from
 * the core and from anything it awaits; nested scopes add to the outer keys. Scoped by async context rather than set on a
 * shared logger, because one Services instance serves concurrent requests in local mode.
 */
export function withLogKeys<T>(keys: Readonly<Record<string, string | undefined>>, fn: () => T): T {
  const defined = Object.fromEntries(Object.entries(keys).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  const outer = scope.getStore();
  return scope.run(outer ? { ...outer, ...defined } : defined, fn);
}

/** The keys of the current scope (undefined outside any). For Log adapters. */
export function currentLogKeys(): LogKeys | undefined {
  return scope.getStore();
}
