import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

/**
 * Two policy versions in a row over local mode with a test clock: a consumer found out of policy under one version keeps
 * its deadline under the next when that finds nothing new, and gets a full grace period for a new reason, even when the
 * old deadline comes before the rollout of the new version reaches it.
 */

const DAY = 86_400_000;
const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-drift-'));
let plane: LocalControlPlane;

type Policy = { risks: { low: { authMethods: string[]; maxGrantDays: number } } };

/** The default policy, changed by `change`, written as a new version in the data directory. */
function policyVersion(name: string, change: (policy: Policy) => void): string {
  const policy = JSON.parse(readFileSync(new URL('../../policy/policy.json', import.meta.url), 'utf8')) as Policy;
  change(policy);
  const file = join(dataDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

async function register(name: string, grantDays: number): Promise<string> {
  const reg = await postJson(
    `${plane.url}/register`,
    publicRequest({ client_name: name, contacts: [`${name}@fintech.example`], expires_at: new Date(START + grantDays * DAY).toISOString() }),
  );
  expect(reg.status).toBe(201);
  return String(reg.json['client_id']);
}

const consumer = (clientId: string) => plane.services.consumers.getConsumer(clientId);

let same: string;
let more: string;

beforeAll(async () => {
  plane = await startTestPlane({ dataDir, clock, consumerCacheMs: 0 });
  same = await register('same-reasons', 100);
  more = await register('new-reason', 300);
  await plane.close();
  // v2: client_secret_basic is no longer allowed at low risk; both consumers use it.
  plane = await startTestPlane({
    dataDir,
    clock,
    consumerCacheMs: 0,
    policyFile: policyVersion('v2', (p) => (p.risks.low.authMethods = ['client_secret_post', 'private_key_jwt'])),
  });
});
afterAll(async () => {
  await plane?.close();
});

describe('local mode: a policy change while consumers are already out of policy', () => {
  it('keeps the deadline when the newer version finds the same reasons, and gives a full grace period for a new one', async () => {
    offset = 1 * DAY;
    expect((await plane.sweep()).rollout).toMatchObject({ outOfPolicy: 2 });
    const firstDeadline = START + 15 * DAY;
    for (const id of [same, more]) expect(Date.parse((await consumer(id))!.outOfPolicy!.suspendAt)).toBe(firstDeadline);

    // v3, deployed after v2's deadline: the same rule, and grants at low risk now at most 200 days (one consumer has 300).
    await plane.close();
    plane = await startTestPlane({
      dataDir,
      clock,
      consumerCacheMs: 0,
      policyFile: policyVersion('v3', (p) => {
        p.risks.low.authMethods = ['client_secret_post', 'private_key_jwt'];
        p.risks.low.maxGrantDays = 200;
      }),
    });
    const v3 = plane.services.policy.version;
    offset = 16 * DAY;
    // Both are due on v2's deadline; the sweep handles them before its rollout of v3 reaches them.
    const result = await plane.sweep();

    expect(await consumer(same)).toMatchObject({ status: 'suspended', policyVersion: v3 });
    expect((await plane.services.consumers.listAudit(same)).at(-1)).toMatchObject({
      type: 'consumer.suspended',
      data: { reason: 'out_of_policy', policyVersion: v3, reasons: ['auth_method_too_weak'] },
    });

    const renewed = await consumer(more);
    expect(renewed).toMatchObject({ status: 'active' });
    expect(renewed!.outOfPolicy).toMatchObject({
      policyVersion: v3,
      since: new Date(START + 16 * DAY).toISOString(),
      suspendAt: new Date(START + 30 * DAY).toISOString(),
    });
    expect(renewed!.outOfPolicy!.reasons.map((r) => r.code).sort()).toEqual(['auth_method_too_weak', 'expiry_exceeds_maximum']);
    expect(renewed!.attentionAt).toBe(renewed!.outOfPolicy!.suspendAt);
    expect(result).toMatchObject({ suspended: 1, rollout: { complete: true, reevaluated: 0 } });

    // The new deadline holds like any other.
    offset = 30 * DAY;
    await plane.sweep();
    expect(await consumer(more)).toMatchObject({ status: 'suspended', policyVersion: v3 });
  });
});
