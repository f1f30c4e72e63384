/**
 * `npm run bench:bundles` (also part of `npm run bench`): size and cold module-init time of every Lambda bundle.
 *
 * The bundles are the ones `cdk synth` builds: the Gatehouse stack (and the resource-server authorizer) is synthesized
 * with bundling on, through NodejsFunction, and each function's asset directory in the cloud assembly is measured
 * (test/lib/built-bundles.ts, shared with the built-bundle smoke test). Each bundle is then imported BENCH_RUNS times,
 * each time in a fresh `node` process with the function's template environment (fake ARNs for deploy-time values, fake
 * role credentials), which runs the module's top-level code as Lambda's init phase does. Opening a socket during import
 * fails the run: module init must not touch the network.
 *
 * Figures: bundle size raw and gzip (index.mjs only), the deployed asset's size (the zip CDK uploads: index.mjs and its
 * source map, each deflated, plus zip headers; estimated, not zipped), import time (median and max, wall clock, measured
 * inside the child around `await import()`), and the CPU time of that import (median; steadier on a busy machine).
 * Budget (reported, not enforced): median module init under 150 ms per function.
 *
 * Env: BENCH_RUNS (default 5), BENCH_ONLY=token,register (subset measured; all are built), BENCH_JSON=path (write the
 *      figures as JSON).
 * Exit code: 0 when every bundle builds and loads (the budget is informational); 1 when one fails to build or load.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { lambdaEnvironment, synthBuiltBundles, type BuiltBundle } from '../test/lib/built-bundles.js';
import { BenchError, intEnv, runBench } from './lib/common.js';

const KB = 1024;
const INIT_BUDGET_MS = 150;

/**
 * The size of a zip of every file in `dir` (what CDK uploads as the function's code): each file deflated, a local and a
 * central header naming it, and the end record: an estimate within about 1 KB of `zip -6` of the same files.
 */
function zipSize(dir: string): number {
  const END_RECORD = 22;
  return readdirSync(dir).reduce((total, name) => {
    const nameBytes = Buffer.byteLength(name);
    return total + 30 + nameBytes + deflateRawSync(readFileSync(join(dir, name))).length + 46 + nameBytes;
  }, END_RECORD);
}

/**
 * Runs in the fresh process: refuses sockets, imports the bundle, and reports the import's wall and CPU time, the type of
 * `handler` and any connection attempted during import (or just after: top-level promises get one macrotask to start).
 */
const CHILD_SCRIPT = `
import net from 'node:net';
const attempts = [];
const refuse = function (...args) {
  const a = Array.isArray(args[0]) ? args[0][0] : args[0];
  attempts.push(typeof a === 'object' && a !== null ? String(a.host ?? a.path ?? a.port) : String(a));
  throw new Error('bench: module init opened a network connection');
};
net.Socket.prototype.connect = refuse;
const url = process.argv[1];
const cpu = process.cpuUsage();
const start = performance.now();
const mod = await import(url);
const ms = performance.now() - start;
const used = process.cpuUsage(cpu);
await new Promise((resolve) => setTimeout(resolve, 0));
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000, handler: typeof mod.handler, attempts }));
`;

interface InitSample {
  readonly ms: number;
  readonly cpuMs: number;
}

function importOnce(bundle: BuiltBundle): Promise<InitSample> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', CHILD_SCRIPT, pathToFileURL(bundle.file).href], {
      cwd: bundle.dir,
      env: lambdaEnvironment(bundle),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new BenchError(`${bundle.name}: import failed (exit ${code}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`));
      let report: { ms: number; cpuMs: number; handler: string; attempts: string[] };
      try {
        report = JSON.parse(stdout) as typeof report;
      } catch {
        return reject(new BenchError(`${bundle.name}: unreadable report from the child: ${stdout.slice(0, 200)} ${stderr.slice(0, 200)}`));
      }
      if (report.handler !== 'function')
        return reject(new BenchError(`${bundle.name}: the bundle exports no handler function (typeof handler = ${report.handler})`));
      if (report.attempts.length > 0) return reject(new BenchError(`${bundle.name}: module init tried to connect to ${report.attempts.join(', ')}`));
      resolvePromise({ ms: report.ms, cpuMs: report.cpuMs });
    });
  });
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const kb = (bytes: number): string => (bytes / KB).toFixed(1);
const ms = (value: number): string => value.toFixed(1);

interface Row {
  readonly name: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly zipBytes: number;
  readonly init: { readonly medianMs: number; readonly maxMs: number; readonly cpuMedianMs: number; readonly samplesMs: readonly number[] };
  readonly withinBudget: boolean;
}

function table(rows: readonly Row[]): string[] {
  const header = ['function', 'raw KB', 'gzip KB', 'zip KB', 'init med ms', 'init max ms', 'cpu med ms', `init < ${INIT_BUDGET_MS} ms`];
  const body = rows.map((r) => [
    r.name,
    kb(r.rawBytes),
    kb(r.gzipBytes),
    kb(r.zipBytes),
    ms(r.init.medianMs),
    ms(r.init.maxMs),
    ms(r.init.cpuMedianMs),
    r.withinBudget ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6]);
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

async function main(): Promise<number> {
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);
  const runs = intEnv('BENCH_RUNS', 5, 1, 50);
  const only = (process.env['BENCH_ONLY'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  out('Gatehouse Lambda bundles: size and cold module init');
  out(`  node ${process.version} here, ${availableParallelism()} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}`);
  const loadBefore = loadavg()[0]!;
  out(
    `  load average (1 min) before: ${loadBefore.toFixed(2)}${loadBefore > 0.5 * availableParallelism() ? '  -- machine is busy: wall-clock init times will be noisy; compare "cpu med ms" too' : ''}`,
  );
  out('  bundling: the assets `cdk synth` builds (NodejsFunction, local esbuild), synthesizing now...');
  const synthStart = performance.now();
  let all: BuiltBundle[];
  try {
    all = synthBuiltBundles();
  } catch (error) {
    throw new BenchError(`synthesis with bundling failed: ${(error as Error).message.split('\n').slice(0, 6).join(' | ')}`);
  }
  const unknown = only.filter((name) => !all.some((b) => b.name === name));
  if (unknown.length > 0) throw new BenchError(`BENCH_ONLY names no function ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
  const chosen = only.length > 0 ? all.filter((b) => only.includes(b.name)) : all;
  out(
    `  synthesized ${all.length} function(s) in ${((performance.now() - synthStart) / 1000).toFixed(1)} s; runtime ${[...new Set(all.map((b) => b.runtime))].join(', ')}`,
  );
  out(`  init: ${runs} fresh \`node\` process(es) per bundle, time of \`await import(bundle)\` with the function's environment`);
  out();

  const failures: string[] = [];
  const rows: Row[] = [];
  for (const bundle of chosen) {
    const samples: InitSample[] = [];
    try {
      // One at a time: parallel imports would measure each other on a 2-core machine.
      for (let i = 0; i < runs; i++) samples.push(await importOnce(bundle));
    } catch (error) {
      failures.push((error as Error).message);
      continue;
    }
    const wall = samples.map((s) => s.ms);
    const init = { medianMs: median(wall), maxMs: Math.max(...wall), cpuMedianMs: median(samples.map((s) => s.cpuMs)), samplesMs: wall };
    rows.push({
      name: bundle.name,
      rawBytes: statSync(bundle.file).size,
      gzipBytes: gzipSync(readFileSync(bundle.file)).length,
      zipBytes: zipSize(bundle.dir),
      init,
      withinBudget: init.medianMs < INIT_BUDGET_MS,
    });
  }

  for (const line of table(rows)) out(`  ${line}`);
  out();
  const misses = rows.filter((r) => !r.withinBudget).map((r) => r.name);
  out(
    `  init budget (informational): median < ${INIT_BUDGET_MS} ms met by ${rows.length - misses.length}/${rows.length}${misses.length > 0 ? ` (over: ${misses.join(', ')})` : ''}`,
  );
  out(`  load average (1 min) after: ${loadavg()[0]!.toFixed(2)}`);

  const jsonPath = process.env['BENCH_JSON'];
  if (jsonPath) {
    const report = {
      bench: 'bundles',
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim(),
      settings: { runs },
      budget: { initMs: INIT_BUDGET_MS },
      loadAverage1m: { before: loadBefore, after: loadavg()[0] },
      functions: rows,
      failures,
    };
    writeFileSync(resolve(jsonPath), `${JSON.stringify(report, null, 2)}\n`);
    out(`  figures written to ${resolve(jsonPath)}`);
  }

  if (failures.length > 0) {
    process.stderr.write(`\nbench: BROKEN:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

runBench(main);
