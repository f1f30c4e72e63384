/** Shared pieces of the benchmarks: settings from the environment, output, a bounded run, and local-mode start/stop. */
import { rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { consoleLog } from '../../lambdas/adapters/local/console-log.js';
import { startLocalControlPlane, type LocalControlPlane, type LocalOptions } from '../../lambdas/adapters/local/control-plane.js';
import type { Log } from '../../lambdas/core/services.js';

/** A benchmark that cannot produce its figures (bad settings, a server that misbehaves): exit code 1. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}

/** Runs a benchmark's main and exits with its code; a BenchError prints its message, anything else its stack. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`\nbench: ${error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error))}\n`);
      process.exit(1);
    },
  );
}

export function intEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BenchError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}.`);
  }
  return value;
}

export function numberEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new BenchError(`${name} must be a number from ${min} to ${max}, not ${JSON.stringify(raw)}.`);
  }
  return value;
}

/** A comma-separated list of positive integers, e.g. `1,10`. */
export function intListEnv(name: string, fallback: readonly number[], min: number, max: number): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return [...fallback];
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min || v > max)) {
    throw new BenchError(`${name} must be a comma-separated list of integers from ${min} to ${max}, not ${JSON.stringify(raw)}.`);
  }
  return values;
}

export const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** 1234567 -> "1,234,567" */
export const count = (n: number): string => n.toLocaleString('en-US');

/** Whatever hangs, the process ends: exits 2 after `ms`. */
export function giveUpAfter(ms: number): void {
  setTimeout(() => {
    process.stderr.write(`\nbench: gave up after ${Math.round(ms / 1000)}s (something hung).\n`);
    process.exit(2);
  }, ms).unref();
}

/** The machine line every bench prints first. */
export function machineLine(): string {
  return `node ${process.version}, ${availableParallelism()} CPU(s) available (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}, load average (1 min) ${loadavg()[0]!.toFixed(2)}`;
}

/** A Log that prints nothing and keeps the errors, so a bench can show why something failed. */
export function quietLog(): Log & { readonly errors: Array<{ message: string; extra?: Record<string, unknown> }> } {
  const errors: Array<{ message: string; extra?: Record<string, unknown> }> = [];
  const silent = consoleLog({ silent: true });
  return {
    info: silent.info,
    warn: silent.warn,
    error: (message, extra) => {
      errors.push({ message, ...(extra ? { extra } : {}) });
    },
    errors,
  };
}

/** Local mode on an ephemeral loopback port, in memory, with a quiet log unless one is given. */
export function startBenchPlane(options: LocalOptions = {}): Promise<LocalControlPlane> {
  return startLocalControlPlane({ port: 0, dataDir: undefined, log: quietLog(), ...options });
}

/** Closes an in-memory plane and removes the outbox temp dir it created (in-memory mode leaves it behind). */
export async function closeBenchPlane(plane: LocalControlPlane): Promise<void> {
  await plane.close();
  const dir = plane.outboxDir;
  if (plane.dataDir === undefined && resolve(dirname(dir)) === resolve(tmpdir()) && basename(dir).startsWith('gatehouse-outbox-')) {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * A worker thread running a TypeScript module: Node 20 workers do not inherit tsx's loader from `--import`, so the
 * worker registers it before importing the module.
 */
export function tsWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); })`, {
    ...options,
    eval: true,
  });
}
