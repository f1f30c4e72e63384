/**
 * `npm run bench`: token issuance throughput and latency, Gatehouse vs node oidc-provider (the reference).
 *
 * Both servers run in this process on 127.0.0.1, in memory; autocannon drives them in turn with the same settings
 * (10 connections, POST client_credentials with client_secret_basic). By default autocannon runs in its own worker thread
 * so the load generator does not share the servers' event loop (BENCH_WORKERS=0 runs it inline). The measured time is
 * split into rounds that alternate between the servers, so a change in the machine's load (it is shared) falls on both
 * rather than on whichever ran second; each round's ratio is printed to show how steady the figures were.
 *
 * Env: BENCH_SECONDS (measured seconds per server, default 10), BENCH_ROUNDS (default 2), BENCH_WARMUP_SECONDS (default 2),
 *      BENCH_CONNECTIONS (default 10), BENCH_WORKERS (default 1), BENCH_JSON=path (write the figures as JSON),
 *      BENCH_VERBOSE=1 (show oidc-provider notices).
 * Exit code: 0 whenever both servers issued tokens (targets are informational); 1 when something is broken.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import { consoleLog } from '../lambdas/adapters/local/console-log.js';
import { startLocalControlPlane, type LocalControlPlane } from '../lambdas/adapters/local/control-plane.js';
import { BenchError, intEnv, runBench } from './lib/common.js';

// ---------------------------------------------------------------------------------------------------------------
// Settings

const AUDIENCE = 'https://api.bank.example';
const SCOPE = 'reference-data:read';
/** Both servers get the same body; the scope is sent so both tokens carry the same claims (Gatehouse defaults to it anyway). */
const FORM_BODY = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;
const CONSUMER_CACHE_MS = 5000; // Gatehouse's default, passed explicitly so the figure printed is the one used.
const TARGET_P99_MS = 5;
const TARGET_RATIO = 2.0;
const GOAL_RATIO = 3.0;

// ---------------------------------------------------------------------------------------------------------------
// Untyped packages (no @types installed): imported through a non-literal specifier and typed here, locally,
// so no ambient `declare module` leaks into the rest of the project.

interface AutocannonOptions {
  url: string;
  method: 'POST';
  connections: number;
  duration: number;
  headers: Record<string, string>;
  body: string;
  workers?: number;
  timeout?: number;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  mismatches: number;
  resets: number;
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  statusCodeStats: Record<string, { count: number }>;
}
type Autocannon = (options: AutocannonOptions) => PromiseLike<AutocannonResult>;

interface OidcProvider {
  callback(): (req: unknown, res: unknown) => void;
}
interface OidcProviderModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidTarget: new (description?: string) => Error };
}

const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

/** Runs `fn` with oidc-provider's console notices (dev keys, in-memory adapter, runtime) held back, and returns them. */
async function quietly<T>(notices: string[], fn: () => Promise<T> | T): Promise<T> {
  if (process.env['BENCH_VERBOSE']) return fn();
  const { warn, info } = console;
  const capture =
    (original: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      const text = args.map(String).join(' ');
      // eslint-disable-next-line no-control-regex -- strips the ANSI colours oidc-provider prints
      if (text.includes('oidc-provider')) notices.push(text.replace(/\x1b\[[0-9;]*m/g, ''));
      else original(...args);
    };
  console.warn = capture(warn);
  console.info = capture(info);
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

interface Target {
  readonly name: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

interface Figures {
  server: string;
  tokensPerSecond: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  durationSeconds: number;
  /** CPU time of this process's main thread (where both servers run) per successful token; undefined off Linux or inline. */
  cpuMicrosPerToken: number | undefined;
  /** Main-thread garbage-collection pauses during the measured rounds: how many per second, their sum per second, the longest. */
  gc: { pausesPerSecond: number; pausedMsPerSecond: number; longestMs: number };
  statusCodes: Record<string, number>;
}

/**
 * CPU milliseconds used so far by the main thread (Linux /proc, 10 ms ticks), or undefined.
 * With autocannon in a worker thread this is the servers' own cost, and far less sensitive to a busy machine than tokens/s.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15 of stat)
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function basicAuth(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

function requestHeaders(target: Target): Record<string, string> {
  return { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
}

async function fetchJson(url: string, init: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new BenchError(`${init.method ?? 'GET'} ${url} answered ${res.status} with a non-JSON body: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body };
}

/** One token request outside the load run: it must be a 200 carrying an ES256 JWT that verifies against the server's JWKS. */
async function sanityCheck(target: Target): Promise<{ alg: string; typ: string | undefined; claims: Record<string, unknown>; expiresIn: unknown }> {
  const { status, body } = await fetchJson(target.tokenUrl, { method: 'POST', headers: requestHeaders(target), body: FORM_BODY });
  if (status !== 200) throw new BenchError(`${target.name}: token request answered ${status}: ${JSON.stringify(body)}`);
  const token = body['access_token'];
  if (typeof token !== 'string' || token.split('.').length !== 3) {
    throw new BenchError(`${target.name}: access_token is not a JWT (expected 3 dot-separated parts): ${JSON.stringify(token)?.slice(0, 120)}`);
  }
  const header = decodeProtectedHeader(token);
  if (header.alg !== 'ES256') throw new BenchError(`${target.name}: access token is signed ${String(header.alg)}, expected ES256.`);
  const jwks = await fetchJson(target.jwksUrl, { method: 'GET' });
  try {
    await jwtVerify(token, createLocalJWKSet(jwks.body as unknown as JSONWebKeySet), { audience: AUDIENCE, algorithms: ['ES256'] });
  } catch (error) {
    throw new BenchError(`${target.name}: access token does not verify against ${target.jwksUrl}: ${(error as Error).message}`);
  }
  return { alg: header.alg, typ: header.typ, claims: decodeJwt(token) as Record<string, unknown>, expiresIn: body['expires_in'] };
}

async function load(autocannon: Autocannon, target: Target, seconds: number, connections: number, workers: number): Promise<AutocannonResult> {
  const result = await autocannon({
    url: target.tokenUrl,
    method: 'POST',
    connections,
    duration: seconds,
    headers: requestHeaders(target),
    body: FORM_BODY,
    timeout: 10,
    ...(workers > 0 ? { workers } : {}),
  });
  return result;
}

interface Round {
  readonly result: AutocannonResult;
  /** Main-thread CPU during the round, or undefined where it cannot be read. */
  readonly cpuMs: number | undefined;
  /** Garbage-collection pauses of the main thread (where both servers run) during the round, in ms. */
  readonly gcPausesMs: readonly number[];
}

/**
 * Records the main thread's garbage-collection pauses until the returned function is called. A young collection stops
 * every request under way, so long or frequent ones show directly in the p99 (docs/performance.md, "Token latency").
 */
function recordGcPauses(): () => number[] {
  const pauses: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    // Entries still queued for the observer are delivered here rather than lost.
    for (const entry of observer.takeRecords()) pauses.push(entry.duration);
    observer.disconnect();
    return pauses;
  };
}

/**
 * One server's figures over its rounds: counts, time and CPU are summed; each latency percentile is the worst round's
 * (autocannon hands back percentiles, not histograms that could be merged).
 */
function figures(server: string, rounds: readonly Round[]): Figures {
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let duration = 0;
  let cpuMs: number | undefined = 0;
  for (const { result: r, cpuMs: cpu } of rounds) {
    for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = (statusCodes[code] ?? 0) + count;
    ok2xx += r['2xx'];
    duration += r.duration;
    cpuMs = cpuMs === undefined || cpu === undefined ? undefined : cpuMs + cpu;
  }
  const worst = (pick: (r: AutocannonResult) => number) => Math.max(...rounds.map((round) => pick(round.result)));
  const sum = (pick: (r: AutocannonResult) => number) => rounds.reduce((total, round) => total + pick(round.result), 0);
  return {
    server,
    tokensPerSecond: duration > 0 ? ok2xx / duration : 0,
    ok2xx,
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    p50Ms: worst((r) => r.latency.p50),
    p90Ms: worst((r) => r.latency.p90),
    p99Ms: worst((r) => r.latency.p99),
    maxMs: worst((r) => r.latency.max),
    durationSeconds: duration,
    cpuMicrosPerToken: cpuMs !== undefined && ok2xx > 0 ? (cpuMs * 1000) / ok2xx : undefined,
    gc: gcFigures(
      rounds.flatMap((round) => round.gcPausesMs),
      duration,
    ),
    statusCodes,
  };
}

function gcFigures(pausesMs: readonly number[], seconds: number): Figures['gc'] {
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  return {
    pausesPerSecond: perSecond(pausesMs.length),
    pausedMsPerSecond: perSecond(pausesMs.reduce((total, ms) => total + ms, 0)),
    longestMs: pausesMs.reduce((longest, ms) => Math.max(longest, ms), 0),
  };
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

function table(rows: readonly Figures[]): void {
  const head = ['server', 'tokens/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', '2xx total', 'server CPU µs/token', 'GC pauses/s', 'GC ms/s', 'longest GC ms'];
  const body = rows.map((f) => [
    f.server,
    fmt(f.tokensPerSecond, 0),
    fmt(f.p50Ms, 2),
    fmt(f.p99Ms, 2),
    String(f.errors + f.timeouts),
    String(f.non2xx),
    String(f.ok2xx),
    f.cpuMicrosPerToken === undefined ? 'n/a' : fmt(f.cpuMicrosPerToken, 0),
    fmt(f.gc.pausesPerSecond, 1),
    fmt(f.gc.pausedMsPerSecond, 1),
    fmt(f.gc.longestMs, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  out(line(head));
  out(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of body) out(line(r));
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

async function startGatehouse(): Promise<{ plane: LocalControlPlane; target: Target; counts: { reads: number; writes: number } }> {
  const plane = await startLocalControlPlane({
    port: 0,
    dataDir: undefined,
    log: consoleLog({ silent: true }),
    consumerCacheMs: CONSUMER_CACHE_MS,
    tokenAudience: AUDIENCE,
  });
  try {
    // Count registry traffic on the token path (the token handler calls through to this very store at each call).
    const counts = { reads: 0, writes: 0 };
    const { consumers } = plane.services;
    const getConsumer = consumers.getConsumer.bind(consumers);
    const recordUse = consumers.recordUse.bind(consumers);
    consumers.getConsumer = (...args: Parameters<typeof getConsumer>) => {
      counts.reads++;
      return getConsumer(...args);
    };
    consumers.recordUse = (...args: Parameters<typeof recordUse>) => {
      counts.writes++;
      return recordUse(...args);
    };

    const expires = new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10);
    const { status, body } = await fetchJson(`${plane.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Bench FX rates widget',
        tier: 'public',
        scope: SCOPE,
        purpose: 'Benchmark token issuance for public reference data',
        data_classes: ['public'],
        contacts: ['bench@fintech.example'],
        expires_at: `${expires}T00:00:00Z`,
      }),
    });
    const clientId = body['client_id'];
    const clientSecret = body['client_secret'];
    if (status !== 201 && status !== 200) throw new BenchError(`Gatehouse: registration answered ${status}: ${JSON.stringify(body)}`);
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
      throw new BenchError(`Gatehouse: registration (${status}) returned no client_id/client_secret (not approved at once?): ${JSON.stringify(body)}`);
    }
    return {
      plane,
      counts,
      target: { name: 'gatehouse', tokenUrl: `${plane.url}/oauth2/token`, jwksUrl: `${plane.url}/.well-known/jwks.json`, clientId, clientSecret },
    };
  } catch (error) {
    await plane.close();
    throw error;
  }
}

async function startReference(notices: string[]): Promise<{ server: Server; target: Target; version: string }> {
  const mod = (await quietly(notices, () => dynamicImport('oidc-provider'))) as OidcProviderModule;
  const version = ((await dynamicImport('oidc-provider/package.json').catch(() => ({ default: { version: '?' } }))) as { default: { version: string } }).default
    .version;

  const server = createServer();
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const signingJwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
    const clientId = 'bench-reference-client';
    const clientSecret = randomBytes(32).toString('base64url');
    const resourceServer = { scope: SCOPE, audience: AUDIENCE, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };

    const provider = await quietly(
      notices,
      () =>
        new mod.Provider(issuer, {
          clients: [
            {
              client_id: clientId,
              client_secret: clientSecret,
              grant_types: ['client_credentials'],
              response_types: [],
              redirect_uris: [],
              token_endpoint_auth_method: 'client_secret_basic',
              // The keystore holds only the ES256 key, so the client's default (RS256) must follow it.
              id_token_signed_response_alg: 'ES256',
              scope: SCOPE,
            },
          ],
          jwks: { keys: [signingJwk] },
          cookies: { keys: [randomBytes(32).toString('base64url')] },
          scopes: [SCOPE],
          ttl: { ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) => token.resourceServer?.accessTokenTTL ?? 3600 },
          features: {
            devInteractions: { enabled: false },
            clientCredentials: { enabled: true },
            resourceIndicators: {
              enabled: true,
              defaultResource: async () => AUDIENCE,
              useGrantedResource: async () => true,
              getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
                if (resourceIndicator !== AUDIENCE) throw new mod.errors.InvalidTarget();
                return resourceServer;
              },
            },
          },
        }),
    );
    server.on('request', provider.callback());
    return {
      server,
      version,
      target: { name: 'oidc-provider', tokenUrl: `${issuer}/token`, jwksUrl: `${issuer}/jwks`, clientId, clientSecret },
    };
  } catch (error) {
    await closeServer(server);
    throw error;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const seconds = intEnv('BENCH_SECONDS', 10, 1, 300);
  const roundCount = intEnv('BENCH_ROUNDS', 2, 1, seconds);
  const warmupSeconds = intEnv('BENCH_WARMUP_SECONDS', 2, 0, 60);
  const connections = intEnv('BENCH_CONNECTIONS', 10, 1, 1000);
  const workers = intEnv('BENCH_WORKERS', 1, 0, 8);
  const jsonPath = process.env['BENCH_JSON'];

  // Bounded: whatever hangs, the process ends.
  const budgetMs = (2 * (seconds + warmupSeconds) + 60) * 1000;
  setTimeout(() => {
    process.stderr.write(`\nbench: gave up after ${budgetMs / 1000}s (something hung).\n`);
    process.exit(2);
  }, budgetMs).unref();

  const { default: autocannon } = (await dynamicImport('autocannon')) as { default: Autocannon };
  const notices: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const results: Figures[] = [];
  let broken: string | undefined;

  out('Token issuance benchmark: Gatehouse (local mode, in memory) vs node oidc-provider (reference)');
  out(
    `  node ${process.version}, ${availableParallelism()} CPU(s) available (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${process.platform}/${process.arch}`,
  );
  out(
    `  load: autocannon, ${connections} connections, ${seconds}s per server in ${roundCount} alternating round(s) after ${warmupSeconds}s warm-up each, ${workers > 0 ? `${workers} worker thread(s)` : 'inline (same event loop)'}`,
  );
  out(`  request: POST, client_secret_basic, body "${FORM_BODY}"`);
  const loadBefore = loadavg()[0]!;
  out(
    `  load average (1 min) before: ${loadBefore.toFixed(2)}${loadBefore > 0.5 * availableParallelism() ? '  -- machine is busy: tokens/s will be noisy; compare "server CPU µs/token" too' : ''}`,
  );
  out(
    `  Gatehouse consumerCacheMs: ${CONSUMER_CACHE_MS} (token issuance costs at most one registry read per request; with the cache, one per client per ${CONSUMER_CACHE_MS} ms)`,
  );
  out();

  let gatehouseCounts: { reads: number; writes: number } | undefined;
  let referenceVersion = '?';
  try {
    // --- Gatehouse
    const gatehouse = await startGatehouse();
    cleanups.push(async () => {
      await gatehouse.plane.close();
      // In-memory mode leaves an outbox temp dir behind; remove the one this run created.
      const dir = gatehouse.plane.outboxDir;
      if (gatehouse.plane.dataDir === undefined && resolve(dirname(dir)) === resolve(tmpdir()) && basename(dir).startsWith('gatehouse-outbox-')) {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    const gCheck = await sanityCheck(gatehouse.target);
    out(`gatehouse      ${gatehouse.target.tokenUrl}  client ${gatehouse.target.clientId}`);
    out(
      `               sample token: JWT, alg ${gCheck.alg}, typ ${gCheck.typ}, verified with JWKS; scope "${String(gCheck.claims['scope'])}", expires_in ${String(gCheck.expiresIn)}`,
    );

    // --- Reference (started now so a broken configuration shows before minutes of load)
    let reference: Awaited<ReturnType<typeof startReference>> | undefined;
    try {
      reference = await startReference(notices);
      const ref = reference;
      cleanups.push(() => closeServer(ref.server));
      referenceVersion = reference.version;
      const rCheck = await quietly(notices, () => sanityCheck(ref.target));
      out(`oidc-provider  ${reference.target.tokenUrl}  v${reference.version}`);
      out(
        `               sample token: JWT, alg ${rCheck.alg}, typ ${rCheck.typ}, verified with JWKS; scope "${String(rCheck.claims['scope'])}", expires_in ${String(rCheck.expiresIn)}`,
      );
    } catch (error) {
      broken = `REFERENCE BROKEN: oidc-provider did not issue an ES256 JWT access token: ${(error as Error).message}`;
      process.stderr.write(`\n${broken}\n\n`);
      reference = undefined;
    }
    if (notices.length) out(`               (${notices.length} oidc-provider dev notice(s) suppressed; BENCH_VERBOSE=1 shows them)`);
    out();

    const roundSeconds = seconds / roundCount;
    const measure = async (target: Target): Promise<Round> => {
      const cpu0 = workers > 0 ? mainThreadCpuMs() : undefined;
      const gcPauses = recordGcPauses();
      const result = await load(autocannon, target, roundSeconds, connections, workers);
      const gcPausesMs = gcPauses();
      const cpu1 = cpu0 === undefined ? undefined : mainThreadCpuMs();
      return { result, cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined, gcPausesMs };
    };
    const targets = [gatehouse.target, ...(reference ? [reference.target] : [])];
    const inQuiet = <T>(target: Target, fn: () => Promise<T>) => (target.name === 'gatehouse' ? fn() : quietly(notices, fn));
    if (warmupSeconds > 0) {
      for (const target of targets) {
        out(`  ${target.name}: warming up ${warmupSeconds}s ...`);
        await inQuiet(target, () => load(autocannon, target, warmupSeconds, connections, workers));
      }
    }
    const rounds = targets.map(() => [] as Round[]);
    const readsBefore = gatehouse.counts.reads;
    const writesBefore = gatehouse.counts.writes;
    for (let i = 0; i < roundCount; i++) {
      // Alternate which server goes first, so neither always follows the other's garbage and warm caches.
      const order = i % 2 === 0 ? targets.map((_, t) => t) : targets.map((_, t) => targets.length - 1 - t);
      for (const t of order) {
        out(`  round ${i + 1}/${roundCount}: ${targets[t]!.name} measuring ${fmt(roundSeconds, 1)}s ...`);
        rounds[t]!.push(await inQuiet(targets[t]!, () => measure(targets[t]!)));
      }
    }
    gatehouseCounts = { reads: gatehouse.counts.reads - readsBefore, writes: gatehouse.counts.writes - writesBefore };
    for (const [t, target] of targets.entries()) results.push(figures(target.name, rounds[t]!));
    const g = results[0]!;
    out();

    // --- Report
    table(results);
    out();
    if (rounds.length === 2) {
      const perRound = rounds[0]!.map((round, i) => {
        const rate = (r: AutocannonResult) => (r.duration > 0 ? r['2xx'] / r.duration : 0);
        const other = rate(rounds[1]![i]!.result);
        return `round ${i + 1} ${fmt(rate(round.result), 0)} vs ${fmt(other, 0)} (${other > 0 ? fmt(rate(round.result) / other, 2) : 'n/a'}x)`;
      });
      out(`  tokens/s by round, Gatehouse vs oidc-provider: ${perRound.join('; ')}`);
    }
    const expiries = Math.ceil((g.durationSeconds * 1000) / CONSUMER_CACHE_MS);
    out(
      `  Gatehouse registry traffic during the measured run: ${gatehouseCounts.reads} consumer read(s), ${gatehouseCounts.writes} recordUse write(s) for ${g.ok2xx} tokens` +
        (gatehouseCounts.reads > expiries ? ` (more than one read per cache expiry: ~${expiries} expected; concurrent misses are not coalesced)` : ''),
    );
    out(
      `  latency percentiles come from autocannon's histogram (1 ms buckets, 2xx only), the worst round's; load average (1 min) after: ${loadavg()[0]!.toFixed(2)}`,
    );
    const nonOk = results.filter((f) => f.non2xx > 0).map((f) => `${f.server}: ${JSON.stringify(f.statusCodes)}`);
    if (nonOk.length) out(`  status codes: ${nonOk.join('; ')}`);

    const word = (ok: boolean) => (ok ? 'PASS' : 'MISS');
    out(`  p99 target (<= ${TARGET_P99_MS} ms): Gatehouse ${fmt(g.p99Ms, 2)} ms -> ${word(g.p99Ms <= TARGET_P99_MS)}`);
    let ratio: number | undefined;
    const r = results[1];
    let cpuRatio: number | undefined;
    if (r && r.tokensPerSecond > 0) {
      ratio = g.tokensPerSecond / r.tokensPerSecond;
      out(
        `  ratio Gatehouse/oidc-provider tokens/s: ${fmt(ratio, 2)}  (target >= ${TARGET_RATIO.toFixed(1)}: ${word(ratio >= TARGET_RATIO)}; product goal >= ${GOAL_RATIO.toFixed(1)}: ${word(ratio >= GOAL_RATIO)})`,
      );
      if (g.cpuMicrosPerToken && r.cpuMicrosPerToken) {
        cpuRatio = r.cpuMicrosPerToken / g.cpuMicrosPerToken;
        out(
          `  CPU-efficiency ratio (oidc-provider µs/token ÷ Gatehouse µs/token): ${fmt(cpuRatio, 2)}  (informational; steadier than tokens/s on a shared machine)`,
        );
      }
    } else {
      out(`  ratio Gatehouse/oidc-provider tokens/s: n/a (no reference figures)`);
    }
    out('  (targets are informational: a MISS does not fail the bench)');

    for (const f of results) {
      if (f.ok2xx === 0) broken ??= `${f.server} issued no tokens during the run (${f.errors} errors, ${f.non2xx} non-2xx ${JSON.stringify(f.statusCodes)}).`;
    }

    if (jsonPath) {
      const report = {
        at: new Date().toISOString(),
        node: process.version,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model.trim(),
        settings: { seconds, rounds: roundCount, warmupSeconds, connections, workers, body: FORM_BODY, consumerCacheMs: CONSUMER_CACHE_MS },
        oidcProviderVersion: referenceVersion,
        results,
        gatehouseRegistry: gatehouseCounts,
        ratio: ratio ?? null,
        cpuEfficiencyRatio: cpuRatio ?? null,
        loadAverage1m: { before: loadBefore, after: loadavg()[0] },
        targets: {
          p99Ms: { target: TARGET_P99_MS, value: g.p99Ms, pass: g.p99Ms <= TARGET_P99_MS },
          ratio: {
            target: TARGET_RATIO,
            goal: GOAL_RATIO,
            value: ratio ?? null,
            pass: ratio !== undefined && ratio >= TARGET_RATIO,
            goalPass: ratio !== undefined && ratio >= GOAL_RATIO,
          },
        },
        broken: broken ?? null,
      };
      writeFileSync(resolve(jsonPath), `${JSON.stringify(report, null, 2)}\n`);
      out(`  figures written to ${resolve(jsonPath)}`);
    }
  } catch (error) {
    broken ??= error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error));
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => process.stderr.write(`cleanup failed: ${(error as Error).message}\n`));
    }
  }

  if (broken) {
    process.stderr.write(`\nbench: BROKEN: ${broken}\n`);
    return 1;
  }
  return 0;
}

runBench(main);
