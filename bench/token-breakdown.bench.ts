/**
 * `npx tsx bench/token-breakdown.bench.ts`: where a token request's server CPU goes in local mode, in three layers.
 *
 * One process, three loopback servers driven in turn by autocannon (own worker thread, 10 connections, the same
 * client_secret_basic request as `bench:token`), each measured as CPU of the main thread per request:
 *   - floor: a bare node:http server answering a fixed token-sized JSON (what HTTP on loopback costs at all);
 *   - handler: a bare node:http server that builds the proxy event and calls the token handler directly;
 *   - local: the local-mode server (route table, event with every header and query map, then the same handler).
 * handler − floor is the token handler (middy chain, grant, signing); local − handler is the local server's dispatch.
 * The best round's figure is printed too: on a shared machine, other work inflates a round's CPU per request.
 *
 * Env: BENCH_SECONDS (per server per round, default 4), BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (default 10).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createTokenHandler } from '../lambdas/handlers/token.js';
import { loadAutocannon, type AutocannonResult } from './lib/autocannon.js';
import { BenchError, closeBenchPlane, fmt, giveUpAfter, intEnv, machineLine, out, runBench, startBenchPlane } from './lib/common.js';
import { basicAuth, registerLowRisk } from './lib/side-traffic.js';

const SCOPE = 'reference-data:read';
const FORM_BODY = `grant_type=client_credentials&scope=${encodeURIComponent(SCOPE)}`;

/** CPU milliseconds of the main thread so far (Linux /proc, 10 ms ticks); autocannon's worker is not counted. */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`;
}

async function main(): Promise<number> {
  const seconds = intEnv('BENCH_SECONDS', 4, 1, 120);
  const rounds = intEnv('BENCH_ROUNDS', 2, 1, 10);
  const connections = intEnv('BENCH_CONNECTIONS', 10, 1, 1000);
  giveUpAfter((3 * rounds * seconds + 3 * 2 + 60) * 1000);
  out('Token request CPU by layer (local mode, main thread)');
  out(`  ${machineLine()}`);

  const plane = await startBenchPlane({ tokenAudience: 'https://api.bank.example' });
  const servers: Server[] = [];
  try {
    const consumer = await registerLowRisk(plane, 1);
    const handler = createTokenHandler(plane.services);
    const sample = JSON.stringify({ access_token: 'x'.repeat(620), token_type: 'Bearer', expires_in: 3600, scope: SCOPE });
    const floor = createServer((req, res) => {
      void readAll(req).then(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(sample) });
        res.end(sample);
      });
    });
    const direct = createServer((req, res) => {
      void readAll(req).then(async (body) => {
        const headers: Record<string, string> = {};
        const multiValueHeaders: Record<string, string[]> = {};
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          headers[req.rawHeaders[i]!] = req.rawHeaders[i + 1]!;
          multiValueHeaders[req.rawHeaders[i]!] = [req.rawHeaders[i + 1]!];
        }
        const event = {
          httpMethod: 'POST',
          path: '/oauth2/token',
          resource: '/oauth2/token',
          headers,
          multiValueHeaders,
          body,
          isBase64Encoded: false,
          requestContext: { requestId: 'bench' },
        };
        const result = await handler(
          event as unknown as APIGatewayProxyEvent,
          { awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 } as unknown as Context,
        );
        const bytes = Buffer.from(result.body, 'utf8');
        res.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'content-length': bytes.length });
        res.end(bytes);
      });
    });
    servers.push(floor, direct);
    const targets = [
      { name: 'floor (bare node:http, fixed body)', url: await listen(floor) },
      { name: 'handler (bare node:http + token handler)', url: await listen(direct) },
      { name: 'local (local-mode server + token handler)', url: `${plane.url}/oauth2/token` },
    ];

    const autocannon = await loadAutocannon();
    const headers = {
      authorization: basicAuth(consumer.clientId, consumer.secret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const load = (url: string, duration: number): PromiseLike<AutocannonResult> =>
      autocannon({ url, method: 'POST', connections, duration, headers, body: FORM_BODY, workers: 1, timeout: 10 });
    for (const t of targets) await load(t.url, 2);
    const totals = targets.map(() => ({ ok: 0, seconds: 0, cpuMs: 0, non2xx: 0, bestMicros: Number.POSITIVE_INFINITY }));
    for (let r = 0; r < rounds; r++) {
      for (const [i, t] of targets.entries()) {
        const cpu0 = mainThreadCpuMs();
        const result = await load(t.url, seconds);
        const total = totals[i]!;
        const cpuMs = mainThreadCpuMs() - cpu0;
        total.cpuMs += cpuMs;
        if (result['2xx'] > 0) total.bestMicros = Math.min(total.bestMicros, (cpuMs * 1000) / result['2xx']);
        total.ok += result['2xx'];
        total.non2xx += result.non2xx + result.errors + result.timeouts;
        total.seconds += result.duration;
      }
    }
    out();
    const perRequest = totals.map((t) => (t.ok > 0 ? (t.cpuMs * 1000) / t.ok : Number.NaN));
    for (const [i, t] of targets.entries()) {
      const total = totals[i]!;
      if (total.non2xx > 0) throw new BenchError(`${t.name}: ${total.non2xx} failed requests`);
      out(
        `  ${t.name.padEnd(44)} ${fmt(total.ok / total.seconds, 0).padStart(7)} req/s  ${fmt(perRequest[i]!, 0).padStart(5)} µs CPU/request (best round ${fmt(total.bestMicros, 0)})`,
      );
    }
    out();
    out(
      `  token handler (handler − floor): ${fmt(perRequest[1]! - perRequest[0]!, 0)} µs; local server dispatch (local − handler): ${fmt(perRequest[2]! - perRequest[1]!, 0)} µs`,
    );
    out(`  ${machineLine()}`);
    return 0;
  } finally {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await closeBenchPlane(plane);
  }
}

runBench(main);
