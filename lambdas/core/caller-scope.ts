import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `fn` with `signal` as the signal of the caller it works for: once the signal is aborted (the caller has been
 * answered, e.g. by middy just before the function's timeout), the adapters start no new dependency call for it and stop
 * waiting for the ones in flight (lambdas/adapters/aws/caller-abort.ts). Scoped by async context, like log keys, so it
 * follows everything `fn` awaits. Without a signal, `fn` just runs.
 */
export function withCallerSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  return signal ? scope.run(signal, fn) : fn();
}

/** The signal of the caller the current code works for (undefined outside any scope). For adapters. */
export function currentCallerSignal(): AbortSignal | undefined {
  return scope.getStore();
}
