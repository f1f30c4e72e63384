import { Logger } from '@aws-lambda-powertools/logger';
import { currentLogKeys } from '../../core/log-context.js';
import type { Log } from '../../core/services.js';

type Attributes = Parameters<Logger['appendKeys']>[0];

/** The Log port over Powertools Logger (structured JSON), with the keys of the current log scope (correlation id) on every line. */
export function powertoolsLog(logger: Logger = new Logger({ serviceName: 'gatehouse' })): Log {
  const write = (level: 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) => {
    const keys = currentLogKeys();
    const attributes = keys ? { ...keys, ...extra } : extra;
    if (attributes) logger[level](message, attributes as Attributes);
    else logger[level](message);
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
