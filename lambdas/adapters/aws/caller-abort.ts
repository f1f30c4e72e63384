import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import { currentCallerSignal } from '../../core/caller-scope.js';

/** What a call abandoned for a caller that has already been answered fails with (not retried by the SDK, not a 500). */
export class CallerGoneError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('The caller has already been answered (the function ran out of time); this AWS call was abandoned.');
  }
}

/**
 * A middleware inside the SDK's retry loop (finalizeRequest, low priority) that ties every attempt to the caller's signal
 * (lambdas/core/caller-scope.ts): none starts once the caller has been answered, and an attempt in flight stops being
 * waited for when that happens. So when middy answers 503 just before the function's timeout, the request's remaining
 * work does not go on retrying, nor resume writing when Lambda thaws the instance for its next request.
 */
const callerAbort: FinalizeRequestMiddleware<object, object> = (next) => async (args) => {
  const signal = currentCallerSignal();
  if (!signal) return next(args);
  if (signal.aborted) throw new CallerGoneError();
  return new Promise((resolve, reject) => {
    const abandon = (): void => reject(new CallerGoneError());
    signal.addEventListener('abort', abandon, { once: true });
    next(args)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abandon));
  });
};

/** Adds the caller-abort middleware to an SDK client the adapter built (an injected client is left as it is). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any SDK client's stack, whatever its input and output types
export function abortWithCaller<C extends { readonly middlewareStack: MiddlewareStack<any, any> }>(client: C): C {
  client.middlewareStack.add(callerAbort, { step: 'finalizeRequest', priority: 'low', name: 'gatehouseCallerAbort', override: true });
  return client;
}
