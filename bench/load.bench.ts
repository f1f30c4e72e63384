/**
 * `npm run bench:load`: token issuance held at a fixed rate while registrations and human reviews run alongside.
 *
 * Local mode runs in this process on 127.0.0.1 (dynalite in memory). autocannon, in its own worker thread, sends
 * client_credentials requests (client_secret_basic, spread over a few low-risk consumers) at a fixed overall rate for a
 * fixed time. Meanwhile this thread registers low-risk consumers at a steady pace and takes a few partner requests
 * through review (medium risk: one approval; high risk: two), approving from the emailed links as a browser would.
 * Everything is loopback only and bounded in count and time; the process ends by itself.
 *
 * Env: BENCH_LOAD_RATE (default 1000 req/s), BENCH_LOAD_SECONDS (default 60), BENCH_LOAD_WARMUP_SECONDS (default 2, same
 *      rate, not in the figures but its errors count), BENCH_LOAD_CONNECTIONS (default 10), BENCH_LOAD_CONSUMERS
 *      (default 4: token clients), BENCH_LOAD_REGISTRATIONS_PER_SECOND (default 1), BENCH_LOAD_REVIEWS (default 4,
 *      alternating medium and high risk), BENCH_LOAD_P99_MS (default 50: the informational p99 bound),
 *      BENCH_JSON=path (write the figures as JSON).
 * Exit code: 0 when every token request succeeded and the side traffic completed; 1 otherwise (a missed rate or p99
 * bound is reported, not failed).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { LocalControlPlane } from '../lambdas/adapters/local/control-plane.js';
import { loadAutocannon, type Autocannon, type AutocannonResult } from './lib/autocannon.js';
import {
  BenchError,
  closeBenchPlane,
  runBench,
  count,
  fmt,
  giveUpAfter,
  intEnv,
  machineLine,
  numberEnv,
  out,
  percentile,
  startBenchPlane,
} from './lib/common.js';
import { basicAuth, Inbox, registerLowRisk, reviewFlow, type LowRiskConsumer, type ReviewFlowResult } from './lib/side-traffic.js';

const SCOPE = 'reference-data:read';
const FORM_BODY = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;

interface TokenFigures {
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly perSecond: { readonly min: number; readonly average: number; readonly max: number };
  readonly seconds: number;
  /** Responses received (2xx + non-2xx). */
  readonly completed: number;
  readonly ok2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p99_9: number;
    readonly max: number;
    readonly average: number;
  };
  /** Delay of this thread's event loop during the measured run (set after the run). */
  eventLoopDelayMs?: { readonly p99: number; readonly max: number };
}

function tokenFigures(rate: number, r: AutocannonResult): TokenFigures {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count: n }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = n;
  return {
    targetRate: rate,
    achievedRate: r.duration > 0 ? (r['2xx'] + r.non2xx) / r.duration : 0,
    perSecond: { min: r.requests.min, average: r.requests.average, max: r.requests.max },
    seconds: r.duration,
    completed: r['2xx'] + r.non2xx,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max, average: r.latency.average },
  };
}

const failuresOf = (f: TokenFigures): number => f.non2xx + f.errors; // autocannon counts timeouts among errors

function tokenRun(
  autocannon: Autocannon,
  plane: LocalControlPlane,
  clients: readonly LowRiskConsumer[],
  rate: number,
  seconds: number,
  connections: number,
): Promise<AutocannonResult> {
  return Promise.resolve(
    autocannon({
      url: plane.url,
      connections,
      duration: seconds,
      overallRate: rate,
      // Every connection cycles through the consumers, so each consumer's cache entry and use record are exercised.
      requests: clients.map((c) => ({
        method: 'POST' as const,
        path: '/oauth2/token',
        headers: { authorization: basicAuth(c.clientId, c.secret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: FORM_BODY,
      })),
      timeout: 10,
      workers: 1,
    }),
  );
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));

interface SideFigures {
  readonly registrations: { readonly planned: number; readonly done: number; readonly failed: number; readonly ms: readonly number[] };
  readonly reviews: readonly ReviewFlowResult[];
  readonly reviewsPlanned: number;
  readonly failures: readonly string[];
  /** Side tasks still running when the token run ended (they are awaited, and finish after it). */
  readonly lateTasks: number;
}

/** Registrations at a steady pace and review flows spread over the run, started at `t0` (performance.now()). */
async function sideTraffic(
  plane: LocalControlPlane,
  inbox: Inbox,
  seconds: number,
  regsPerSecond: number,
  reviews: number,
  runEnded: () => boolean,
): Promise<SideFigures> {
  const t0 = performance.now();
  const failures: string[] = [];
  const regMs: number[] = [];
  let regFailed = 0;
  let late = 0;
  const planned = Math.floor(regsPerSecond * seconds);
  const registrations = (async () => {
    for (let k = 0; k < planned; k++) {
      await sleep(t0 + (k * 1000) / regsPerSecond - performance.now());
      try {
        regMs.push((await registerLowRisk(plane, 10_000 + k)).ms);
      } catch (error) {
        regFailed++;
        failures.push(`registration ${k}: ${(error as Error).message}`);
      }
    }
    if (runEnded()) late++;
  })();
  const done: ReviewFlowResult[] = [];
  const flows = Array.from({ length: reviews }, async (_, k) => {
    await sleep(t0 + ((k + 0.25) * seconds * 1000) / reviews - performance.now());
    try {
      done.push(await reviewFlow(plane, inbox, k % 2 === 0 ? 'medium' : 'high', k));
    } catch (error) {
      failures.push(`review ${k}: ${(error as Error).message}`);
    }
    if (runEnded()) late++;
  });
  await Promise.all([registrations, ...flows]);
  return { registrations: { planned, done: regMs.length, failed: regFailed, ms: regMs }, reviews: done, reviewsPlanned: reviews, failures, lateTasks: late };
}

function latencyLine(label: string, values: readonly number[]): string {
  if (values.length === 0) return `  ${label}: none`;
  const sorted = [...values].sort((a, b) => a - b);
  return `  ${label}: n=${values.length}, p50 ${fmt(percentile(sorted, 50), 1)} ms, p90 ${fmt(percentile(sorted, 90), 1)} ms, p99 ${fmt(percentile(sorted, 99), 1)} ms, max ${fmt(sorted.at(-1)!, 1)} ms`;
}

async function main(): Promise<number> {
  const rate = intEnv('BENCH_LOAD_RATE', 1000, 1, 100_000);
  const seconds = intEnv('BENCH_LOAD_SECONDS', 60, 1, 600);
  const warmup = intEnv('BENCH_LOAD_WARMUP_SECONDS', 2, 0, 60);
  const connections = intEnv('BENCH_LOAD_CONNECTIONS', 10, 1, 1000);
  const consumers = intEnv('BENCH_LOAD_CONSUMERS', 4, 1, 100);
  const regsPerSecond = numberEnv('BENCH_LOAD_REGISTRATIONS_PER_SECOND', 1, 0, 50);
  const reviews = intEnv('BENCH_LOAD_REVIEWS', 4, 0, 50);
  const p99Bound = numberEnv('BENCH_LOAD_P99_MS', 50, 1, 10_000);
  const jsonPath = process.env['BENCH_JSON'];
  giveUpAfter((2 * (seconds + warmup) + 120) * 1000);

  out('Load test: token issuance at a fixed rate with registrations and reviews alongside (local mode, in memory, loopback)');
  out(`  ${machineLine()}`);
  out(
    `  token load: autocannon in a worker thread, overallRate ${count(rate)} req/s for ${seconds} s (after ${warmup} s warm-up), ${connections} connections, POST /oauth2/token client_secret_basic over ${consumers} consumers`,
  );
  out(
    `  side traffic (this thread): ${regsPerSecond} low-risk registration(s)/s, ${reviews} review flow(s) (alternating medium: 1 approval, high: 2), approved from the emailed links`,
  );
  out(
    "  note: autocannon's overallRate gives each connection a per-second budget, sent back to back at the start of each second (bursty, not evenly spaced); latency is 2xx only, 1 ms resolution",
  );
  out();

  const autocannon = await loadAutocannon();
  const inbox = new Inbox();
  const plane = await startBenchPlane({ onEmail: inbox.receive, policyFile: policyWithoutAnonymousQuota() });
  const broken: string[] = [];
  let token: TokenFigures | undefined;
  let warm: TokenFigures | undefined;
  let side: SideFigures | undefined;
  try {
    const clients: LowRiskConsumer[] = [];
    for (let i = 0; i < consumers; i++) clients.push(await registerLowRisk(plane, i));
    for (const c of clients) {
      const res = await fetch(`${plane.url}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: basicAuth(c.clientId, c.secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: FORM_BODY,
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new BenchError(`sanity token request for ${c.clientId} answered ${res.status}`);
    }
    out(`  ${consumers} token consumer(s) registered and checked; plane at ${plane.url}`);

    if (warmup > 0) {
      out(`  warming up ${warmup} s ...`);
      warm = tokenFigures(rate, await tokenRun(autocannon, plane, clients, rate, warmup, connections));
    }
    out(`  measuring ${seconds} s ...`);
    let ended = false;
    const load0 = loadavg()[0]!;
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const sidePromise = sideTraffic(plane, inbox, seconds, regsPerSecond, reviews, () => ended);
    const result = await tokenRun(autocannon, plane, clients, rate, seconds, connections);
    ended = true;
    loopDelay.disable();
    side = await sidePromise;
    const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    token = { ...tokenFigures(rate, result), eventLoopDelayMs: loop };
    out();

    // --- Report
    const t = token;
    out(`Token issuance (${fmt(t.seconds, 0)} s):`);
    out(
      `  target rate ${count(rate)} req/s; achieved ${fmt(t.achievedRate, 1)} req/s (per-second samples: min ${count(t.perSecond.min)}, avg ${fmt(t.perSecond.average, 1)}, max ${count(t.perSecond.max)})`,
    );
    out(
      `  requests: ${count(t.completed + t.errors)} in all: ${count(t.ok2xx)} 2xx, ${count(t.non2xx)} non-2xx, ${count(t.errors)} socket errors (of which ${t.timeouts} timeouts)  status codes ${JSON.stringify(t.statusCodes)}`,
    );
    out(
      `  latency: p50 ${fmt(t.latencyMs.p50, 0)} ms, p90 ${fmt(t.latencyMs.p90, 0)} ms, p99 ${fmt(t.latencyMs.p99, 0)} ms, p99.9 ${fmt(t.latencyMs.p99_9, 0)} ms, max ${fmt(t.latencyMs.max, 0)} ms (mean ${fmt(t.latencyMs.average, 2)} ms)`,
    );
    out(
      `  server event loop (this thread: HTTP, handlers, dynalite, side traffic) delay during the run: p99 ${fmt(loop.p99, 0)} ms, max ${fmt(loop.max, 0)} ms`,
    );
    if (warm) out(`  warm-up: ${count(warm.ok2xx)} 2xx, ${warm.non2xx} non-2xx, ${warm.errors} errors`);
    out(`  errors: ${failuresOf(t) + (warm ? failuresOf(warm) : 0)} -> ${failuresOf(t) + (warm ? failuresOf(warm) : 0) === 0 ? 'PASS (zero errors)' : 'FAIL'}`);
    out(`  p99 ${fmt(t.latencyMs.p99, 0)} ms vs bound ${p99Bound} ms -> ${t.latencyMs.p99 <= p99Bound ? 'within' : 'OVER'} (informational)`);
    out(`  rate ${fmt(t.achievedRate, 1)} vs target ${rate} req/s -> ${t.achievedRate >= 0.98 * rate ? 'held' : 'NOT HELD'} (informational; held = within 2%)`);
    out();
    out('Side traffic during the run:');
    out(
      `  registrations (low risk, auto-approved): ${side.registrations.done} done of ${side.registrations.planned} planned, ${side.registrations.failed} failed`,
    );
    out(latencyLine('registration latency', side.registrations.ms));
    const med = side.reviews.filter((r) => r.risk === 'medium');
    const high = side.reviews.filter((r) => r.risk === 'high');
    out(
      `  reviews completed: ${side.reviews.length} of ${side.reviewsPlanned} (medium ${med.length}, high ${high.length}); approvals posted ${side.reviews.reduce((n, r) => n + r.approvalMs.length, 0)}; medium-risk tokens after approval: ${med.filter((r) => r.tokenStatus === 200).length}/${med.length}`,
    );
    out(
      latencyLine(
        'review, registration request to active (incl. workflow, emails, approvals)',
        side.reviews.map((r) => r.totalMs),
      ),
    );
    out(
      latencyLine(
        'review registration request (202)',
        side.reviews.map((r) => r.registerMs),
      ),
    );
    out(
      latencyLine(
        'approval (page load + form post)',
        side.reviews.flatMap((r) => r.approvalMs),
      ),
    );
    if (side.lateTasks > 0) out(`  note: ${side.lateTasks} side task(s) finished after the token run ended`);
    out(
      `  emails sent by the plane: ${inbox.size}; load average (1 min) at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} (${availableParallelism()} CPUs)`,
    );

    if (failuresOf(t) > 0)
      broken.push(`${failuresOf(t)} token request(s) failed during the measured run: ${JSON.stringify(t.statusCodes)}, ${t.errors} socket errors`);
    if (warm && failuresOf(warm) > 0) broken.push(`${failuresOf(warm)} token request(s) failed during the warm-up`);
    if (t.ok2xx === 0) broken.push('no token was issued');
    broken.push(...side.failures);
    if (side.registrations.done + side.registrations.failed !== side.registrations.planned) broken.push('not every planned registration ran');
  } catch (error) {
    broken.push(error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error)));
  } finally {
    await closeBenchPlane(plane).catch((error: unknown) => process.stderr.write(`cleanup failed: ${(error as Error).message}\n`));
  }

  if (jsonPath) {
    const report = {
      at: new Date().toISOString(),
      node: process.version,
      cpus: availableParallelism(),
      settings: { rate, seconds, warmup, connections, consumers, regsPerSecond, reviews, p99Bound },
      token: token ?? null,
      warmup: warm ?? null,
      side: side ?? null,
      broken,
    };
    writeFileSync(resolve(jsonPath), `${JSON.stringify(report, null, 2)}\n`);
    out(`  figures written to ${resolve(jsonPath)}`);
  }
  if (broken.length) {
    process.stderr.write(`\nbench: BROKEN: ${broken.join('; ')}\n`);
    return 1;
  }
  return 0;
}

runBench(main);

/**
 * The committed policy with an anonymous registration quota the side traffic never reaches: every registration here
 * comes from one loopback address, and what is measured is the token path under load, not the quota.
 */
function policyWithoutAnonymousQuota(): string {
  const policy = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'policy', 'policy.json'), 'utf8')) as Record<string, unknown>;
  policy['registrationQuotas'] = { ...(policy['registrationQuotas'] as object | undefined), anonymousPerIpPerDay: 100_000 };
  const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-bench-policy-')), 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
  return file;
}
