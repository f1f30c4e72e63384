import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { powertoolsLog } from '../../../../lambdas/adapters/aws/log.js';
import { withLogKeys } from '../../../../lambdas/core/log-context.js';
import { captureOutput } from '../../fixtures.js';

/** The JSON lines Powertools Logger wrote, in order. */
const { jsonLines: lines } = captureOutput();

describe('powertoolsLog', () => {
  it('writes structured JSON with the level, the message and the extra attributes', () => {
    const log = powertoolsLog(new Logger({ serviceName: 'gatehouse' }));
    log.warn('could not record use', { clientId: 'gh_x', error: 'ThrottlingException' });
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'could not record use', service: 'gatehouse', clientId: 'gh_x', error: 'ThrottlingException' }),
    ]);
  });

  it('adds the keys of the current log scope (the correlation id) to every line, and only inside the scope', async () => {
    const log = powertoolsLog(new Logger({ serviceName: 'gatehouse' }));
    await withLogKeys({ correlation_id: 'api-request-1' }, async () => {
      log.info('inside');
      await Promise.resolve();
      log.error('inside, later', { error: 'TimeoutError' });
    });
    log.info('outside');
    const [inside, later, outside] = lines();
    expect(inside).toMatchObject({ message: 'inside', correlation_id: 'api-request-1' });
    expect(later).toMatchObject({ level: 'ERROR', message: 'inside, later', correlation_id: 'api-request-1', error: 'TimeoutError' });
    expect(outside).not.toHaveProperty('correlation_id');
  });
});
