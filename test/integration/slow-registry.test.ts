import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close();
  plane = undefined;
});

describe('local mode with a registry slower than the request deadline', () => {
  it('says the outcome is unknown, never "nothing was changed", and the retry with the same Idempotency-Key returns the one consumer made', async () => {
    let slow = true;
    // Each item of a transaction takes longer than the whole request may: the write completes after the answer.
    plane = await startTestPlane({ requestTimeoutMs: 500, afterTransactionItem: async () => void (slow && (await sleep(400))) });
    const key = randomUUID();
    const body = publicRequest();

    const first = await postJson(`${plane.url}/register`, body, { 'idempotency-key': key });
    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBeTruthy();
    const text = JSON.stringify(first.json);
    expect(text).toContain('The outcome is unknown');
    expect(text).toContain('same Idempotency-Key');
    expect(text).not.toContain('nothing was changed');

    // The write the answer gave up on lands.
    await expect.poll(async () => (await plane!.services.consumers.listConsumers(10)).consumers.length, { timeout: 10_000 }).toBe(1);
    slow = false;
    const retry = await postJson(`${plane.url}/register`, body, { 'idempotency-key': key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const [stored] = (await plane.services.consumers.listConsumers(10)).consumers;
    expect(retry.json['client_id']).toBe(stored!.clientId);
    expect((await plane.services.consumers.listConsumers(10)).consumers).toHaveLength(1);
  });
});
