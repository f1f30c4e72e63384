import { currentLogKeys } from '../../core/log-context.js';
import type { Log } from '../../core/services.js';
import { terminalSafe } from './terminal-text.js';

/** The Log port for local mode: one JSON line per entry on stderr, control characters escaped (with the current log scope's keys), or nothing when silent (tests). */
export function consoleLog(options: { readonly silent?: boolean } = {}): Log {
  const write = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    if (options.silent) return;
    // JSON escapes C0 characters but leaves DEL and C1 (such as the one-byte CSI) raw for the terminal to act on.
    process.stderr.write(
      `${terminalSafe(JSON.stringify({ level, timestamp: new Date().toISOString(), service: 'gatehouse', message, ...currentLogKeys(), ...extra }))}\n`,
    );
  };
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}
