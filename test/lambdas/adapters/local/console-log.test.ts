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

  it('leaves no raw control character for the terminal to act on, C1 and DEL included, and stays valid JSON', () => {
    consoleLog().warn('name \u001b[31mred\u009b2J\u007f\u2028end', { client_name: '\u009b31m' });
    const chunk = String(stderr.mock.calls[0]![0]);
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(chunk.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(lines()[0]).toMatchObject({ message: 'name \u001b[31mred\u009b2J\u007f\u2028end', client_name: '\u009b31m' });
  });
});
