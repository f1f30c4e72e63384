import { describe, expect, it } from 'vitest';
import { currentLogKeys, withLogKeys } from '../../../lambdas/core/log-context.js';

/** A promise the test resolves when it wants, to interleave two async flows. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('withLogKeys', () => {
  it('gives its keys to everything the scope runs and awaits, and none outside it', async () => {
    expect(currentLogKeys()).toBeUndefined();
    const seen = await withLogKeys({ correlation_id: 'req-1' }, async () => {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      return currentLogKeys();
    });
    expect(seen).toEqual({ correlation_id: 'req-1' });
    expect(currentLogKeys()).toBeUndefined();
  });

  it('adds nested keys to the outer ones, and drops keys without a value', () => {
    const seen = withLogKeys({ correlation_id: 'exec-1', clientId: 'gh_a' }, () =>
      withLogKeys({ action: 'activate', clientId: 'gh_b', missing: undefined, empty: '' }, () => currentLogKeys()),
    );
    expect(seen).toEqual({ correlation_id: 'exec-1', clientId: 'gh_b', action: 'activate' });
  });

  it('keeps concurrent scopes apart (local mode serves overlapping requests with one Services)', async () => {
    const first = deferred();
    const second = deferred();
    const a = withLogKeys({ correlation_id: 'a' }, async () => {
      await first.promise;
      return currentLogKeys()?.['correlation_id'];
    });
    const b = withLogKeys({ correlation_id: 'b' }, async () => {
      await second.promise;
      return currentLogKeys()?.['correlation_id'];
    });
    second.resolve();
    first.resolve();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
  });
});
