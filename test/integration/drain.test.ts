import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close(0);
  plane = undefined;
});

const adminGet = async (p: LocalControlPlane, path: string): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(`${p.url}${path}`, { headers: { authorization: `Bearer ${p.adminToken}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('local mode graceful stop', () => {
  it('finishes a registration under way, refuses new requests, and starts again at once on the same data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-drain-'));
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    let hold = false;
    // The first transaction of the registration stops after its first item until the stop has begun.
    plane = await startTestPlane({
      dataDir,
      afterTransactionItem: async () => {
        if (!hold) return;
        hold = false;
        held();
        await released;
      },
    });
    const url = plane.url;
    hold = true;
    const body = publicRequest();
    const registering = postJson(`${url}/register`, body, { 'idempotency-key': 'drain-test-key-0001' });
    await holding;

    const stopStarted = Date.now();
    const stopping = plane.close();
    const refused = await fetch(`${url}/.well-known/jwks.json`).then(
      (r) => r.status,
      () => 'refused',
    );
    release();
    const answer = await registering;
    await stopping;
    const stopMs = Date.now() - stopStarted;
    plane = undefined;

    expect(refused).toBe('refused');
    expect(answer.status).toBe(201);
    // The answer under way closed its keep-alive connection, so the stop did not wait for the 10 s grace to cut it.
    expect(answer.headers.get('connection')).toBe('close');
    expect(stopMs).toBeLessThan(5000);
    plane = await startTestPlane({ dataDir });
    const clientId = String(answer.json['client_id']);
    const evidence = await adminGet(plane, `/admin/consumers/${clientId}`);
    expect(evidence.status).toBe(200);
    expect(evidence.json).toMatchObject({ consumer: { status: 'active' }, audit: { chain_verified: true } });
    const again = await postJson(`${plane.url}/register`, body, { 'idempotency-key': 'drain-test-key-0001' });
    expect(again.json['client_id']).toBe(clientId);
  });

  it('cuts a request that outlasts the grace period instead of waiting for it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-drain-'));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let hold = false;
    plane = await startTestPlane({
      dataDir,
      afterTransactionItem: () => {
        if (!hold) return undefined;
        held();
        return new Promise<void>(() => undefined);
      },
    });
    hold = true;
    const registering = postJson(`${plane.url}/register`, publicRequest()).then(
      (r) => r.status,
      () => 'cut',
    );
    await holding;

    const started = Date.now();
    await plane.close(200);
    plane = undefined;

    expect(await registering).toBe('cut');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
