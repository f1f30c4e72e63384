import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../../core/services.js';

type Attributes = Parameters<Logger['appendKeys']>[0];

/** The Log port over Powertools Logger (structured JSON, correlation ids from the Lambda context). */
export function powertoolsLog(logger: Logger = new Logger({ serviceName: 'gatehouse' })): Log {
  return {
    info: (message, extra) => (extra ? logger.info(message, extra as Attributes) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra as Attributes) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra as Attributes) : logger.error(message)),
  };
}
