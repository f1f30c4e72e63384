import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicRequest } from './local-mode.js';

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminToken: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The default policy with a registration quota no crash run reaches: every registration here comes from one address,
 * and what is under test is atomicity, not the quota.
 */
const POLICY_FILE = (() => {
  const policy = JSON.parse(readFileSync('policy/policy.json', 'utf8')) as { registrationQuotas?: { anonymousPerIpPerDay: number } };
  policy.registrationQuotas = { anonymousPerIpPerDay: 100_000 };
  const file = join(mkdtempSync(join(tmpdir(), 'gatehouse-crash-policy-')), 'policy.json');
  writeFileSync(file, JSON.stringify(policy));
  return file;
})();

/** Starts `node bin/start.mjs` (what `npm start` runs) on `dataDir` and resolves once it serves. */
function startLocal(dataDir: string, port: number, env: Record<string, string> = {}): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/start.mjs'], {
      env: {
        ...process.env,
        GATEHOUSE_DATA_DIR: dataDir,
        PORT: String(port),
        GATEHOUSE_CLIENT_SECRET_ROTATION: 'off',
        GATEHOUSE_POLICY_FILE: POLICY_FILE,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not start; output:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const url = /running locally at (\S+)/.exec(output)?.[1];
      const token = /admin token {3}(\S+)/.exec(output)?.[1];
      if (url && token) {
        clearTimeout(timer);
        resolve({ child, url, adminToken: token, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before serving; output:\n${output}`));
    });
  });
}

interface Registration {
  readonly key: string;
  readonly body: Record<string, unknown>;
  /** The client the plane acknowledged with 201, if it did. */
  clientId?: string;
  clientSecret?: string;
}

async function register(url: string, r: Registration): Promise<number | 'no answer'> {
  try {
    const res = await fetch(`${url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': r.key },
      body: JSON.stringify(r.body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status === 201) {
      // A replay must name the client acknowledged before.
      if (r.clientId !== undefined) expect(json['client_id']).toBe(r.clientId);
      r.clientId = String(json['client_id']);
      r.clientSecret = String(json['client_secret']);
    }
    return res.status;
  } catch {
    return 'no answer';
  }
}

async function token(url: string, r: Registration): Promise<number | 'no answer'> {
  if (!r.clientId) return 'no answer';
  const basic = Buffer.from(`${encodeURIComponent(r.clientId)}:${encodeURIComponent(r.clientSecret!)}`).toString('base64');
  return fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  }).then(
    (res) => res.status,
    () => 'no answer' as const,
  );
}

async function admin(p: Running, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${p.url}${path}`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/**
 * The invariants after any crash: every key, retried, replays one client (the acknowledged one where there was one);
 * every consumer is active with a verified chain and has exactly one key behind it; every acknowledged client gets tokens.
 */
async function checkInvariants(p: Running, registrations: readonly Registration[]): Promise<void> {
  for (const r of registrations) {
    const before = r.clientId;
    expect(await register(p.url, r)).toBe(201);
    if (before !== undefined) expect(r.clientId).toBe(before);
  }
  const consumers: Array<Record<string, unknown>> = [];
  let cursor: string | undefined;
  do {
    const page = await admin(p, `/admin/consumers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    consumers.push(...(page['consumers'] as Array<Record<string, unknown>>));
    cursor = page['next_cursor'] as string | undefined;
  } while (cursor);
  // Each registration has its own client_name: two consumers with one name are one key that made two consumers.
  const names = consumers.map((c) => c['clientName']);
  expect(names.length).toBe(new Set(names).size);
  expect(consumers.map((c) => c['clientId']).sort()).toEqual(registrations.map((r) => r.clientId).sort());
  for (const c of consumers) {
    const shown = await admin(p, `/admin/consumers/${String(c['clientId'])}`);
    expect(shown).toMatchObject({ consumer: { status: 'active' }, audit: { chain_verified: true } });
  }
  for (const r of registrations) expect(await token(p.url, r)).toBe(200);
}

let serial = 0;
const newRegistrations = (n: number): Registration[] =>
  Array.from({ length: n }, () => {
    serial += 1;
    return { key: `crash-test-key-${String(serial).padStart(6, '0')}`, body: publicRequest({ client_name: `Crash test client ${serial}` }) };
  });

/** Registrations and token requests in parallel, some of them retries of earlier keys. */
async function load(p: Running, fresh: readonly Registration[], earlier: readonly Registration[]): Promise<void> {
  await Promise.all([...fresh.map((r) => register(p.url, r)), ...earlier.map((r) => token(p.url, r)), ...earlier.slice(0, 2).map((r) => register(p.url, r))]);
}

describe('local mode under crashes', () => {
  it('loses nothing it acknowledged and leaves nothing half-written across kill -9 and SIGTERM', { timeout: 120_000 }, async () => {
    const started = Date.now();
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
    const port = await freePort();
    const all: Registration[] = [];

    // Injected: killed right after item k of the first transaction that reaches it, for each k a registration writes.
    for (const k of [1, 2, 3]) {
      const p = await startLocal(dataDir, port, { GATEHOUSE_CRASH_AFTER_TX_ITEM: String(k) });
      const batch = newRegistrations(3);
      all.push(...batch);
      await load(
        p,
        batch,
        all.filter((r) => r.clientId),
      );
      expect(await p.exited).toMatchObject({ signal: 'SIGKILL' });
    }

    // At a random moment under load.
    {
      const p = await startLocal(dataDir, port);
      const batch = newRegistrations(6);
      all.push(...batch);
      const loading = load(
        p,
        batch,
        all.filter((r) => r.clientId),
      );
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 150)));
      p.child.kill('SIGKILL');
      await loading;
      await p.exited;
    }

    // A graceful stop under load: whatever was under way finishes, and the process exits 0.
    {
      const p = await startLocal(dataDir, port);
      const batch = newRegistrations(6);
      all.push(...batch);
      const loading = load(
        p,
        batch,
        all.filter((r) => r.clientId),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      p.child.kill('SIGTERM');
      await loading;
      expect(await p.exited).toMatchObject({ code: 0 });
    }

    // An immediate restart on the same data serves, and every invariant holds.
    const p = await startLocal(dataDir, port);
    try {
      await checkInvariants(p, all);
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    expect(Date.now() - started).toBeLessThan(120_000);
  });
});
