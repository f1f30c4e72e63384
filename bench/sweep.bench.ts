/**
 * `npm run bench:sweep`: the lifecycle sweep reads only what is due, however large the table.
 *
 * For each table size, a fresh process starts local mode (dynalite in memory), writes N synthetic consumers with
 * BatchWriteItem in the registry's own item shape (a fixed number of them due: grants ended, dormant, inside a warning
 * window; the rest due later or not in the attention index at all), sets the plane's clock to the reference time, runs
 * one sweep and then a second one. Reads are counted at the DynamoDB client: items returned by Query and GetItem calls
 * (the index pages plus any re-read after a lost race). Each due consumer is then checked to be in its expected state.
 *
 * Env: BENCH_SWEEP_CONSUMERS (default 100000: the first table size), BENCH_SWEEP_DUE_PERCENT (default 1: due consumers,
 *      as a percentage of that first size; the same number is due in every size), BENCH_SWEEP_SCALE (default "1,3":
 *      table sizes as multiples of the first; "1,10" adds a 1,000,000-consumer table, which takes ~13 min to populate
 *      on a 2-core machine and ~5.5 GB of memory), BENCH_SWEEP_HEAP_MB (default 10240: V8 heap limit of each run),
 *      BENCH_JSON=path (write the figures as JSON).
 * Exit code: 0 when every run handled its due consumers as expected (targets are informational); 1 when something is
 * broken (a due consumer not handled, a failure, a not-due consumer touched, a second sweep that still finds work).
 */
import { fork } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dynamoStores } from '../lambdas/adapters/aws/dynamo-registry.js';
import type { SweepResult } from '../lambdas/core/lifecycle/sweep.js';
import {
  BenchError,
  closeBenchPlane,
  count,
  fmt,
  giveUpAfter,
  intEnv,
  intListEnv,
  machineLine,
  numberEnv,
  out,
  quietLog,
  startBenchPlane,
  tsWorker,
} from './lib/common.js';
import { countDynamoCalls, type DynamoTally } from './lib/dynamo-counter.js';
import type { PopulateMessage, PopulateRequest } from './lib/populate-worker.js';
import { clientIdOf, DUE_PLANS, planOf, type Plan } from './lib/synthetic-consumers.js';

const RUN_ENV = 'BENCH_SWEEP_RUN'; // set by the parent for each child run: "<consumers>:<due>"
const TARGET_READS_PER_DUE = 1.1;
const WRITE_CHUNK = 5_000; // consumers built and written per step, so a large table is never held twice in memory

interface SweepFigures {
  readonly seconds: number;
  readonly result: SweepResult;
  readonly tally: DynamoTally;
  /** Items returned by every read call during the sweep (Query, GetItem, Scan, BatchGetItem). */
  readonly itemsRead: number;
  /** Of those, consumer items. */
  readonly consumerItemsRead: number;
}

interface RunFigures {
  readonly consumers: number;
  readonly due: number;
  /** Consumers carrying attention keys (in the sparse index). */
  readonly indexed: number;
  readonly byPlan: Record<Plan, number>;
  readonly populateSeconds: number;
  readonly first: SweepFigures;
  readonly second: SweepFigures;
  readonly expected: { readonly revoked: number; readonly suspended: number; readonly warned: number };
  /** Due consumers not in their expected state afterwards (first few described). */
  readonly wrong: number;
  readonly wrongExamples: readonly string[];
  /** Not-due consumers (a sample) changed by the sweep. */
  readonly touchedSample: number;
  readonly sampleSize: number;
  readonly emails: number;
  readonly loggedErrors: readonly string[];
  readonly heapUsedMb: number;
  readonly maxRssMb: number;
}

// ---------------------------------------------------------------------------------------------------------------
// One run (child process): one table size

async function timedSweep(run: () => Promise<SweepResult>, counter: ReturnType<typeof countDynamoCalls>): Promise<SweepFigures> {
  counter.start();
  const t = performance.now();
  const result = await run();
  const seconds = (performance.now() - t) / 1000;
  const tally = counter.stop();
  const itemsRead = Object.values(tally.itemsRead).reduce((a, b) => a + b, 0);
  return { seconds, result, tally, itemsRead, consumerItemsRead: tally.itemsByKind['consumer'] ?? 0 };
}

/** Runs the populate worker; `progress` is called about every tenth of the table. */
function populate(request: PopulateRequest, progress: (written: number) => void): Promise<{ byPlan: Record<Plan, number>; indexed: number }> {
  return new Promise((ok, fail) => {
    const worker = tsWorker(new URL('./lib/populate-worker.ts', import.meta.url), { workerData: request });
    let reported = 0;
    worker.on('message', (message: PopulateMessage) => {
      if (message.kind === 'progress') {
        if (message.written - reported >= request.consumers / 10 || message.written === request.consumers) {
          reported = message.written;
          progress(message.written);
        }
      } else if (message.kind === 'done') {
        ok({ byPlan: message.byPlan, indexed: message.indexed });
        void worker.terminate();
      } else {
        fail(new BenchError(`populating the table failed: ${message.message}`));
        void worker.terminate();
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new BenchError(`the populate worker exited (${code}) before it finished`)));
  });
}

async function runOne(consumers: number, due: number): Promise<RunFigures> {
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  const log = quietLog();
  const plane = await startBenchPlane({ clock: { now: () => new Date(t0) }, consumerCacheMs: 0, log });
  try {
    const endpoint = await plane.documentClient.config.endpoint?.();
    if (!endpoint) throw new BenchError('the local table client has no endpoint');
    const started = performance.now();
    const request: PopulateRequest = {
      endpoint: `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`,
      tableName: plane.tableName,
      policy: plane.services.policy,
      t0,
      consumers,
      due,
      chunk: WRITE_CHUNK,
    };
    const { byPlan, indexed } = await populate(request, (written) => {
      const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
      process.stderr.write(
        `    written ${count(written)} / ${count(consumers)} (${fmt((performance.now() - started) / 1000, 0)} s, heap ${fmt(heapMb, 0)} MB)\n`,
      );
    });
    const populateSeconds = (performance.now() - started) / 1000;

    // Steady state: the deployed policy's rollout (re-evaluating every consumer once after a policy change, a one-off
    // table scan) is already complete, as it is on every sweep but the first after a policy deploy.
    const rollout = dynamoStores({ tableName: plane.tableName, documentClient: plane.documentClient }).rollouts;
    const policyVersion = plane.services.policy.version;
    if (
      !(await rollout.savePolicyRollout(
        { version: policyVersion, startedAt: new Date(t0).toISOString(), complete: true, reevaluated: 0, outOfPolicy: 0, revision: 1 },
        0,
      ))
    ) {
      throw new BenchError('could not record the policy rollout as complete');
    }

    const counter = countDynamoCalls(plane.documentClient);
    const first = await timedSweep(() => plane.sweep(), counter);
    const second = await timedSweep(() => plane.sweep(), counter);

    // Afterwards (not counted): every due consumer must be in its expected state, and not-due ones untouched.
    const store = plane.services.consumers;
    let wrong = 0;
    const wrongExamples: string[] = [];
    for (let i = 0; i < due; i++) {
      const plan = planOf(i, due);
      const c = await store.getConsumer(clientIdOf(i));
      const later = c?.attentionAt === undefined || Date.parse(c.attentionAt) > t0;
      const ok =
        c !== undefined &&
        c.auditSeq === 1 &&
        later &&
        (plan === 'revoke'
          ? c.status === 'revoked' && c.attentionAt === undefined
          : plan === 'suspend'
            ? c.status === 'suspended'
            : c.status === 'active' && (c.warningsSent?.length ?? 0) === 1);
      if (!ok) {
        wrong++;
        if (wrongExamples.length < 5)
          wrongExamples.push(`${clientIdOf(i)} (${plan}): status ${c?.status}, auditSeq ${c?.auditSeq}, attentionAt ${c?.attentionAt}`);
      }
    }
    const sampleSize = Math.min(1000, consumers - due);
    let touchedSample = 0;
    for (let k = 0; k < sampleSize; k++) {
      const i = due + Math.floor((k * (consumers - due)) / sampleSize);
      const c = await store.getConsumer(clientIdOf(i));
      if (!c || c.auditSeq !== 0) touchedSample++;
    }
    const perKind = (kind: Plan) => Array.from({ length: due }, (_, i) => planOf(i, due)).filter((p) => p === kind).length;
    const emails = readdirSync(plane.outboxDir).filter((f) => f.endsWith('.eml')).length;
    const mem = process.memoryUsage();
    return {
      consumers,
      due,
      indexed,
      byPlan,
      populateSeconds,
      first,
      second,
      expected: { revoked: perKind('revoke'), suspended: perKind('suspend'), warned: perKind('warn-expiry') + perKind('warn-dormancy') },
      wrong,
      wrongExamples,
      touchedSample,
      sampleSize,
      emails,
      loggedErrors: log.errors.slice(0, 5).map((e) => `${e.message} ${JSON.stringify(e.extra ?? {})}`),
      heapUsedMb: mem.heapUsed / 2 ** 20,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await closeBenchPlane(plane);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parent: one child process per size (a fresh heap each, with a raised limit), then the report

function runInChild(consumers: number, due: number, heapMb: number): Promise<RunFigures> {
  return new Promise((ok, fail) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, [RUN_ENV]: `${consumers}:${due}` },
      execArgv: [...process.execArgv, `--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let figures: RunFigures | undefined;
    let error: string | undefined;
    child.on('message', (message: { figures?: RunFigures; error?: string }) => {
      figures = message.figures ?? figures;
      error = message.error ?? error;
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (figures) ok(figures);
      else fail(new BenchError(error ?? `the run with ${count(consumers)} consumers ended without figures (exit ${code}, signal ${signal})`));
    });
  });
}

function problems(r: RunFigures): string[] {
  const list: string[] = [];
  const f = r.first.result;
  if (f.failed > 0) list.push(`${f.failed} due consumer(s) failed`);
  if (!f.complete) list.push('the sweep did not complete');
  if (f.revoked !== r.expected.revoked || f.suspended !== r.expected.suspended || f.warned !== r.expected.warned) {
    list.push(
      `outcomes ${f.revoked}/${f.suspended}/${f.warned} revoked/suspended/warned, expected ${r.expected.revoked}/${r.expected.suspended}/${r.expected.warned}`,
    );
  }
  if (f.read !== r.due) list.push(`the sweep read ${f.read} consumers from the index, ${r.due} were due`);
  if (r.wrong > 0) list.push(`${r.wrong} due consumer(s) not in their expected state afterwards, e.g. ${r.wrongExamples.join('; ')}`);
  if (r.touchedSample > 0) list.push(`${r.touchedSample} of ${r.sampleSize} sampled not-due consumers were changed`);
  if (r.second.result.read !== 0 || r.second.consumerItemsRead !== 0) list.push(`the second sweep still read ${r.second.consumerItemsRead} consumer item(s)`);
  if (r.emails !== r.due) list.push(`${r.emails} emails for ${r.due} due consumers`);
  return list;
}

function report(r: RunFigures): void {
  const f = r.first;
  const calls = (t: DynamoTally) =>
    Object.entries(t.calls)
      .map(([k, v]) => `${k.replace(/Command$/, '')} ${v}`)
      .join(', ');
  out(`  consumers in table ${count(r.consumers)}  (in the attention index: ${count(r.indexed)}; not indexed: ${count(r.consumers - r.indexed)})`);
  out(`  due at the sweep's clock: ${count(r.due)}  (${fmt((100 * r.due) / r.consumers, 2)}% of the table)`);
  out(
    `  mix: ${Object.entries(r.byPlan)
      .filter(([, n]) => n > 0)
      .map(([plan, n]) => `${plan} ${count(n)}`)
      .join(', ')}`,
  );
  out(
    `  populated in ${fmt(r.populateSeconds, 1)} s (${count(Math.round(r.consumers / r.populateSeconds))} items/s via BatchWriteItem); heap after ${fmt(r.heapUsedMb, 0)} MB, peak RSS ${fmt(r.maxRssMb, 0)} MB`,
  );
  const detail = (s: SweepFigures) =>
    `${
      Object.entries(s.tally.itemsRead)
        .map(([k, v]) => `${k.replace(/Command$/, '')} ${v}`)
        .join(', ') || 'none'
    }; by kind: ${
      Object.entries(s.tally.itemsByKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`;
  out(`  sweep 1: ${fmt(f.seconds, 2)} s; SweepResult.read ${f.result.read}; items read at the client ${f.itemsRead} (${detail(f)})`);
  out(
    `           items read per due item: ${fmt(f.itemsRead / r.due, 3)}  (target <= ${TARGET_READS_PER_DUE}: ${f.itemsRead / r.due <= TARGET_READS_PER_DUE ? 'PASS' : 'MISS'})`,
  );
  out(
    `           outcomes: revoked ${f.result.revoked}, suspended ${f.result.suspended}, warned ${f.result.warned}, exceptions ended ${f.result.exceptionsEnded}, rearmed ${f.result.rearmed}, failed ${f.result.failed}; complete ${f.result.complete}` +
      (f.result.rollout ? `; policy rollout read ${f.result.rollout.read}` : ''),
  );
  out(`           calls: ${calls(f.tally)}  (${fmt((f.seconds * 1000) / Math.max(1, r.due), 2)} ms per due consumer)`);
  out(
    `  sweep 2 (right after): ${fmt(r.second.seconds * 1000, 1)} ms; SweepResult.read ${r.second.result.read}; items read ${r.second.itemsRead} (${detail(r.second)}); calls: ${calls(r.second.tally)}`,
  );
  out(
    `  checked afterwards: ${r.due - r.wrong}/${r.due} due consumers in their expected state; ${r.sampleSize - r.touchedSample}/${r.sampleSize} sampled not-due consumers untouched; ${r.emails} emails in the outbox`,
  );
}

async function main(): Promise<number> {
  const base = intEnv('BENCH_SWEEP_CONSUMERS', 100_000, 10, 10_000_000);
  const duePercent = numberEnv('BENCH_SWEEP_DUE_PERCENT', 1, 0.001, 100);
  // 1 and 3 by default: 1M (BENCH_SWEEP_SCALE=1,10) takes ~13 min to populate on the 2-core machine and ~5.5 GB.
  const scales = intListEnv('BENCH_SWEEP_SCALE', [1, 3], 1, 1000);
  const heapMb = intEnv('BENCH_SWEEP_HEAP_MB', 10_240, 512, 65_536);
  const jsonPath = process.env['BENCH_JSON'];
  const due = Math.max(1, Math.round((base * duePercent) / 100));
  giveUpAfter(90 * 60_000);

  out('Lifecycle sweep benchmark: reads per due consumer, local mode (dynalite in memory)');
  out(`  ${machineLine()}`);
  out(
    `  table sizes: ${scales.map((s) => count(base * s)).join(', ')} consumers; ${count(due)} due in each (${duePercent}% of ${count(base)}); due kinds split evenly over ${DUE_PLANS.join(', ')}`,
  );
  out(
    `  not due: 85% active and 5% suspended with a future attention time, 10% revoked/denied (not in the index); each size runs in its own process (heap limit ${heapMb} MB)`,
  );
  out('  reads are counted at the DynamoDB client: every item returned by Query (the index pages), GetItem (re-reads, the rollout state), Scan');
  out(
    "  the deployed policy's rollout is recorded as complete before the sweeps (steady state: the one-off re-evaluation scan after a policy deploy is not measured)",
  );
  out();

  const runs: RunFigures[] = [];
  const broken: string[] = [];
  for (const scale of scales) {
    const consumers = base * scale;
    if (due > consumers) throw new BenchError(`${due} due consumers do not fit a table of ${consumers}`);
    out(`Table of ${count(consumers)} consumers:`);
    let r: RunFigures;
    try {
      r = await runInChild(consumers, due, heapMb);
    } catch (error) {
      const message = `table of ${count(consumers)}: ${(error as Error).message}`;
      broken.push(message);
      out(`  BROKEN: ${message}`);
      out();
      continue;
    }
    runs.push(r);
    report(r);
    const found = problems(r);
    for (const p of found) out(`  BROKEN: ${p}`);
    if (r.loggedErrors.length) out(`  logged errors: ${r.loggedErrors.join(' | ')}`);
    broken.push(...found.map((p) => `table of ${count(consumers)}: ${p}`));
    out();
  }

  if (runs.length > 1) {
    out('Summary (reads should not grow with the table):');
    const head = ['consumers', 'due', 'items read', 'per due', 'sweep s', 'ms/due', '2nd sweep items', 'populate s', 'peak RSS MB'];
    const rows = runs.map((r) => [
      count(r.consumers),
      count(r.due),
      String(r.first.itemsRead),
      fmt(r.first.itemsRead / r.due, 3),
      fmt(r.first.seconds, 2),
      fmt((r.first.seconds * 1000) / r.due, 2),
      String(r.second.itemsRead),
      fmt(r.populateSeconds, 0),
      fmt(r.maxRssMb, 0),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: readonly string[]) => `  ${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}`;
    out(line(head));
    for (const row of rows) out(line(row));
    out();
  }
  out(`  target: <= ${TARGET_READS_PER_DUE} items read per due consumer (informational: a MISS does not fail the bench)`);

  if (jsonPath) {
    writeFileSync(
      resolve(jsonPath),
      `${JSON.stringify({ at: new Date().toISOString(), node: process.version, settings: { base, duePercent, scales, heapMb }, targetReadsPerDue: TARGET_READS_PER_DUE, runs, broken }, null, 2)}\n`,
    );
    out(`  figures written to ${resolve(jsonPath)}`);
  }
  if (broken.length) {
    process.stderr.write(`\nbench: BROKEN: ${broken.join('; ')}\n`);
    return 1;
  }
  return 0;
}

const runSpec = process.env[RUN_ENV];
if (runSpec !== undefined) {
  // Child: one size, figures back to the parent over IPC; it ends with its parent.
  process.on('disconnect', () => process.exit(3));
  const [consumers, due] = runSpec.split(':').map(Number) as [number, number];
  runOne(consumers, due).then(
    (figures) => process.send!({ figures }, () => process.exit(0)),
    (error: unknown) =>
      process.send!({ error: error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error)) }, () => process.exit(1)),
  );
} else {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`\nbench: ${error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error))}\n`);
      process.exit(1);
    },
  );
}
