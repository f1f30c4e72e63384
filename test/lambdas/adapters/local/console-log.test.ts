import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { consoleLog } from '../../../../lambdas/adapters/local/console-log.js';
import { withLogKeys } from '../../../../lambdas/core/log-context.js';

let stderr: MockInstance<typeof process.stderr.write>;

beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  stderr.mockRestore();
});

const lines = (): Array<Record<string, unknown>> => stderr.mock.calls.map(([chunk]) => JSON.parse(String(chunk)) as Record<string, unknown>);

describe('consoleLog', () => {
  it("writes one JSON line per entry with the scope's keys, the entry's own attributes winning", () => {
    const log = consoleLog();
    withLogKeys({ correlation_id: 'req-9', action: 'scope' }, () => log.info('lifecycle sweep finished', { action: 'own', read: 3 }));
    log.error('outside');
    expect(lines()).toEqual([
      {
        level: 'INFO',
        timestamp: expect.any(String),
        service: 'gatehouse',
        message: 'lifecycle sweep finished',
        correlation_id: 'req-9',
        action: 'own',
        read: 3,
      },
      { level: 'ERROR', timestamp: expect.any(String), service: 'gatehouse', message: 'outside' },
    ]);
  });

  it('writes nothing when silent', () => {
    consoleLog({ silent: true }).error('quiet');
    expect(stderr).not.toHaveBeenCalled();
  });
});
