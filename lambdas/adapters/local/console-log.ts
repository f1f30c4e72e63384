import { currentLogKeys } from '../../core/log-context.js';
import type { Log } from '../../core/services.js';

/** The Log port for local mode: one JSON line per entry on stderr (with the current log scope's keys), or nothing when silent (tests). */
export function consoleLog(options: { readonly silent?: boolean } = {}): Log {
  const write = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    if (options.silent) return;
    process.stderr.write(`${JSON.stringify({ level, timestamp: new Date().toISOString(), service: 'gatehouse', message, ...currentLogKeys(), ...extra })}\n`);
  };
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}
