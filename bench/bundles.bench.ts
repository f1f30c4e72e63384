/**
 * `npm run bench` (and `tsx bench/bundles.bench.ts` alone): size and cold module-init time of every Lambda bundle.
 *
 * Each function in lib/functions.ts (FUNCTIONS, SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, AUTHORIZER) is bundled with
 * esbuild's JS API from `gatehouseEsbuildOptions` (lib/bundling.ts), as CDK bundles it at synth (bin/bundle.ts), with the
 * policy compiled in exactly where the stack compiles it in. Then each bundle is imported BENCH_RUNS times,
 * each time in a fresh `node` process with a Lambda-like environment (the stack's variables with fake ARNs, the base
 * NODE_OPTIONS, fake credentials), which runs the module's top-level code as Lambda's init phase does. Opening a socket
 * during import fails the run: module init must not touch the network.
 *
 * Figures: bundle size raw and gzip (index.mjs only), the deployed asset's size (the zip CDK uploads: index.mjs and its
 * source map, each deflated, plus zip headers; estimated, not zipped), import time (median and max, wall clock,
 * measured inside the child around `await import()`), the CPU time of that import (median; steadier on a busy machine),
 * and the packages that weigh most in each bundle (esbuild metafile).
 * Targets (informational): < 300 KB per bundle (1 KB = 1024 bytes, raw), < 150 ms median module init.
 *
 * Env: BENCH_RUNS (default 5), BENCH_ONLY=token,register (subset), BENCH_TOP (packages listed per bundle, default 3),
 *      BENCH_EXTERNAL_SDK=1 (what-if: @aws-sdk/* and @smithy/* left external and resolved from node_modules, as they
 *      would be from the Lambda runtime's copy; NOT what is deployed), BENCH_JSON=path (write the figures as JSON).
 * Exit code: 0 when every bundle builds and loads (targets are informational); 1 when one fails to build or load.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ENV, MAIL_FROM_ENV } from '../lambdas/adapters/aws/env.js';
import { loadPolicyFile, type LoadedPolicy } from '../lambdas/core/policy/load.js';
import { AUTHORIZER_ENV } from '../lambdas/verifier/authorizer.js';
import { BUNDLE_FILE, esbuildBuildOptions, gatehouseEsbuildOptions, type GatehouseEsbuildOptions } from '../lib/bundling.js';
import { AUTHORIZER, FUNCTIONS, SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, type FunctionSpec } from '../lib/functions.js';
import { BASE_ENVIRONMENT, PROJECT_ROOT } from '../lib/gatehouse-function.js';
import { KEY_OVERLAP_ENV, KEY_PUBLISH_DELAY_ENV } from '../lib/signing-key.js';
import { BenchError, intEnv, runBench } from './lib/common.js';

const KB = 1024;
const TARGET_SIZE_BYTES = 300 * KB;
const TARGET_INIT_MS = 150;
/** Under the project, so that anything left external resolves from its node_modules like Lambda's runtime copy would. */
const OUT_ROOT = join(PROJECT_ROOT, 'node_modules', '.cache', 'gatehouse-bench', 'bundles');
const SDK_EXTERNALS = ['@aws-sdk/*', '@smithy/*'];

interface Target {
  readonly name: string;
  readonly spec: FunctionSpec;
  /** Whether the stack compiles the policy into this function (HandlerFunctions and SigningKey's init function do). */
  readonly withPolicy: boolean;
}

/** Every Lambda the stacks deploy from lib/functions.ts, with the policy where the constructs pass it. */
function targets(): Target[] {
  return [
    ...Object.entries(FUNCTIONS).map(([name, spec]) => ({ name, spec, withPolicy: true })),
    { name: 'signing-key-init', spec: SIGNING_KEY_INIT, withPolicy: true },
    { name: 'signing-key-rotation', spec: SIGNING_KEY_ROTATION, withPolicy: false },
    { name: 'authorizer', spec: AUTHORIZER, withPolicy: false },
  ];
}

/**
 * What a function sees in Lambda at init: the runtime's variables, BASE_ENVIRONMENT and the stack's settings with fake
 * ARNs. Every function gets every Gatehouse variable (a superset of what its capabilities give it): reading one it
 * does not use changes nothing. No variable of the shell running the bench leaks in, except PATH.
 */
function lambdaEnvironment(target: Target, dir: string): NodeJS.ProcessEnv {
  const account = '123456789012';
  const region = 'eu-west-1';
  const arn = (service: string, resource: string): string => `arn:aws:${service}:${region}:${account}:${resource}`;
  return {
    PATH: process.env['PATH'],
    // Lambda runtime
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: `Gatehouse-${target.name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(target.spec.memorySize),
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/Gatehouse-${target.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]00000000000000000000000000000000',
    AWS_ACCESS_KEY_ID: 'ASIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-the-bench-only',
    AWS_SESSION_TOKEN: 'fake-session-token',
    LAMBDA_TASK_ROOT: dir,
    _HANDLER: 'index.handler',
    TZ: ':UTC',
    // GatehouseFunction
    ...BASE_ENVIRONMENT,
    // HandlerFunctions and SigningKey (fake resources)
    [ENV.tableName]: 'Gatehouse-RegistryTable-BENCH',
    [ENV.signingKeySecretId]: arn('secretsmanager', 'secret:gatehouse/signing-key-AbCdEf'),
    [ENV.stateMachineArn]: arn('states', 'stateMachine:Gatehouse-Onboarding'),
    [ENV.issuer]: 'https://gatehouse.bench.example/v1',
    [ENV.tokenAudience]: 'https://api.bank.example',
    [ENV.softwareStatementIssuer]: 'bank-commercial',
    [ENV.softwareStatementJwks]: readFileSync(join(PROJECT_ROOT, 'config/software-statement.example.jwks.json'), 'utf8'),
    [ENV.consumerCacheMs]: '5000',
    [ENV.reviewers]: JSON.stringify({ default: ['security-reviewers@bank.example', 'api-risk-officers@bank.example'] }),
    [ENV.clientSecretPrefix]: 'gatehouse/Gatehouse/clients/',
    [ENV.clientSecretKeyId]: arn('kms', 'key/00000000-0000-0000-0000-000000000000'),
    [ENV.clientSecretRotationArn]: arn('lambda', 'function:Gatehouse-ClientSecretRotation'),
    [MAIL_FROM_ENV]: 'gatehouse@bank.example',
    [KEY_PUBLISH_DELAY_ENV]: '900',
    [KEY_OVERLAP_ENV]: '3900',
    // GatehouseAuthorizer
    [AUTHORIZER_ENV.issuer]: 'https://gatehouse.bench.example/v1',
    [AUTHORIZER_ENV.audience]: 'https://api.bank.example',
    [AUTHORIZER_ENV.jwksUri]: 'https://gatehouse.bench.example/v1/.well-known/jwks.json',
    [AUTHORIZER_ENV.routeScopes]: JSON.stringify({ 'GET /accounts/{id}': ['accounts:read'] }),
  };
}

interface Built {
  readonly target: Target;
  readonly dir: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly zipBytes: number;
  /** Bytes in the output by package (`node_modules/<pkg>`) or by source folder (`lambdas/core`), largest first. */
  readonly weights: ReadonlyArray<readonly [string, number]>;
}

function weightsOf(metafile: Metafile): Array<[string, number]> {
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(BUNDLE_FILE))?.[1];
  if (!output) throw new BenchError('esbuild metafile has no bundle output');
  const byOwner = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const owner = pkg ?? path.split('/').slice(0, 2).join('/');
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + input.bytesInOutput);
  }
  return [...byOwner].sort((a, b) => b[1] - a[1]);
}

async function bundle(target: Target, options: GatehouseEsbuildOptions): Promise<Built> {
  const dir = join(OUT_ROOT, target.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const result = await build({ ...esbuildBuildOptions(options, { projectRoot: PROJECT_ROOT, entry: target.spec.entry, outdir: dir }), metafile: true, logLevel: 'silent' });
  const code = readFileSync(join(dir, BUNDLE_FILE));
  return { target, dir, rawBytes: statSync(join(dir, BUNDLE_FILE)).size, gzipBytes: gzipSync(code).length, zipBytes: zipSize(dir), weights: weightsOf(result.metafile) };
}

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

function importOnce(built: Built): Promise<InitSample> {
  const url = pathToFileURL(join(built.dir, BUNDLE_FILE)).href;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', CHILD_SCRIPT, url], {
      cwd: built.dir,
      env: lambdaEnvironment(built.target, built.dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new BenchError(`${built.target.name}: import failed (exit ${code}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`));
      let report: { ms: number; cpuMs: number; handler: string; attempts: string[] };
      try {
        report = JSON.parse(stdout) as typeof report;
      } catch {
        return reject(new BenchError(`${built.target.name}: unreadable report from the child: ${stdout.slice(0, 200)} ${stderr.slice(0, 200)}`));
      }
      if (report.handler !== 'function') return reject(new BenchError(`${built.target.name}: the bundle exports no handler function (typeof handler = ${report.handler})`));
      if (report.attempts.length > 0) return reject(new BenchError(`${built.target.name}: module init tried to connect to ${report.attempts.join(', ')}`));
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
  readonly entry: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly zipBytes: number;
  readonly init: { readonly medianMs: number; readonly maxMs: number; readonly cpuMedianMs: number; readonly samplesMs: readonly number[] };
  readonly sizeOk: boolean;
  readonly initOk: boolean;
  readonly heaviest: ReadonlyArray<{ readonly owner: string; readonly bytes: number }>;
}

function table(rows: readonly Row[], top: number): string[] {
  const header = ['function', 'raw KB', 'gzip KB', 'zip KB', 'init med ms', 'init max ms', 'cpu med ms', `< ${TARGET_SIZE_BYTES / KB} KB`, `< ${TARGET_INIT_MS} ms`, `heaviest (KB in bundle)`];
  const body = rows.map((r) => [
    r.name,
    kb(r.rawBytes),
    kb(r.gzipBytes),
    kb(r.zipBytes),
    ms(r.init.medianMs),
    ms(r.init.maxMs),
    ms(r.init.cpuMedianMs),
    r.sizeOk ? 'yes' : 'NO',
    r.initOk ? 'yes' : 'NO',
    r.heaviest.slice(0, top).map((h) => `${h.owner} ${kb(h.bytes)}`).join(', '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6]);
  const line = (cells: string[]): string => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

async function main(): Promise<number> {
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);
  const runs = intEnv('BENCH_RUNS', 5, 1, 50);
  const top = intEnv('BENCH_TOP', 3, 0, 20);
  const externalSdk = process.env['BENCH_EXTERNAL_SDK'] === '1';
  const only = (process.env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const all = targets();
  const unknown = only.filter((name) => !all.some((t) => t.name === name));
  if (unknown.length > 0) throw new BenchError(`BENCH_ONLY names no function ${unknown.join(', ')}; known: ${all.map((t) => t.name).join(', ')}`);
  const chosen = only.length > 0 ? all.filter((t) => only.includes(t.name)) : all;

  const contextPolicy = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: { policyFile?: string } }).context?.policyFile;
  const policy: LoadedPolicy = loadPolicyFile(resolve(PROJECT_ROOT, contextPolicy ?? 'policy/policy.json'));
  const optionsFor = (target: Target): GatehouseEsbuildOptions => {
    const options = gatehouseEsbuildOptions(target.withPolicy ? policy : undefined);
    return externalSdk ? { ...options, external: [...options.external, ...SDK_EXTERNALS] } : options;
  };

  out('Gatehouse Lambda bundles: size and cold module init');
  out(`  node ${process.version} (Lambda runs Node 22), ${availableParallelism()} CPU(s) (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}`);
  const loadBefore = loadavg()[0]!;
  out(`  load average (1 min) before: ${loadBefore.toFixed(2)}${loadBefore > 0.5 * availableParallelism() ? '  -- machine is busy: wall-clock init times will be noisy; compare "cpu med ms" too' : ''}`);
  out(`  bundling: gatehouseEsbuildOptions (lib/bundling.ts), policy ${policy.version}${externalSdk ? `; WHAT-IF: ${SDK_EXTERNALS.join(', ')} external, loaded from node_modules (not what is deployed)` : '; AWS SDK bundled (as deployed)'}`);
  out(`  init: ${runs} fresh \`node\` process(es) per bundle, time of \`await import(bundle)\` with the Lambda environment (NODE_OPTIONS=${BASE_ENVIRONMENT['NODE_OPTIONS'] ?? ''})`);
  out();

  const failures: string[] = [];
  const builtAll = await Promise.all(
    chosen.map((target) =>
      bundle(target, optionsFor(target)).catch((error: unknown) => {
        failures.push(`${target.name}: bundling failed: ${(error as Error).message.split('\n').slice(0, 4).join(' | ')}`);
        return undefined;
      }),
    ),
  );

  const rows: Row[] = [];
  for (const built of builtAll) {
    if (!built) continue;
    const samples: InitSample[] = [];
    try {
      // One at a time: parallel imports would measure each other on a 2-core machine.
      for (let i = 0; i < runs; i++) samples.push(await importOnce(built));
    } catch (error) {
      failures.push((error as Error).message);
      continue;
    }
    const wall = samples.map((s) => s.ms);
    const init = { medianMs: median(wall), maxMs: Math.max(...wall), cpuMedianMs: median(samples.map((s) => s.cpuMs)), samplesMs: wall };
    rows.push({
      name: built.target.name,
      entry: built.target.spec.entry,
      rawBytes: built.rawBytes,
      gzipBytes: built.gzipBytes,
      zipBytes: built.zipBytes,
      init,
      sizeOk: built.rawBytes < TARGET_SIZE_BYTES,
      initOk: init.medianMs < TARGET_INIT_MS,
      heaviest: built.weights.map(([owner, bytes]) => ({ owner, bytes })),
    });
  }

  for (const line of table(rows, top)) out(`  ${line}`);
  out();
  const sizeMisses = rows.filter((r) => !r.sizeOk).length;
  const initMisses = rows.filter((r) => !r.initOk).length;
  out(`  targets (informational): size < ${TARGET_SIZE_BYTES / KB} KB met by ${rows.length - sizeMisses}/${rows.length}; init median < ${TARGET_INIT_MS} ms met by ${rows.length - initMisses}/${rows.length}`);
  if (rows.length > 0) {
    // What dominates across all bundles: each package's largest share in any one bundle.
    const worst = new Map<string, number>();
    for (const r of rows) for (const h of r.heaviest) worst.set(h.owner, Math.max(worst.get(h.owner) ?? 0, h.bytes));
    const sdk = (owner: string): boolean => owner.startsWith('@aws-sdk/') || owner.startsWith('@smithy/');
    const sdkShare = rows.map((r) => r.heaviest.filter((h) => sdk(h.owner)).reduce((sum, h) => sum + h.bytes, 0) / r.rawBytes);
    out(`  largest contributors (max KB in any bundle): ${[...worst].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([o, b]) => `${o} ${kb(b)}`).join(', ')}`);
    out(`  AWS SDK (@aws-sdk/*, @smithy/*) share of each bundle: ${ms(Math.min(...sdkShare) * 100)}–${ms(Math.max(...sdkShare) * 100)} %`);
  }
  out(`  load average (1 min) after: ${loadavg()[0]!.toFixed(2)}; bundles left in ${OUT_ROOT}`);

  const jsonPath = process.env['BENCH_JSON'];
  if (jsonPath) {
    const report = {
      bench: 'bundles',
      date: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim(),
      settings: { runs, externalSdk, policyVersion: policy.version },
      targets: { sizeBytes: TARGET_SIZE_BYTES, initMs: TARGET_INIT_MS },
      loadAverage1m: { before: loadBefore, after: loadavg()[0] },
      functions: rows.map((r) => ({ ...r, heaviest: r.heaviest.slice(0, 10) })),
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
