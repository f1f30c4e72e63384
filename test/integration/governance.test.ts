import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { attentionAt, dormancyCutoff } from '../../lambdas/core/lifecycle/attention.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';
import { readOutbox, reviewLink, type OutboxMail } from './outbox.js';
import { submitDecision } from './review-flow.js';

/**
 * Lifecycle governance over local mode with a test clock: a policy change finds consumers out of policy (grace, then
 * suspension), a time-boxed exception keeps one working until it ends, reinstatement goes through review, and revocation
 * ends exceptions. The policy change is a restart on the same data directory with another policy file, as a deployment is.
 */

const DAY = 86_400_000;
const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-governance-'));
let plane: LocalControlPlane;

interface Registered {
  clientId: string;
  secret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

const contact = (name: string) => `${name}@fintech.example`;

async function register(name: string, method: Registered['method'] = 'client_secret_basic'): Promise<Registered> {
  const reg = await postJson(
    `${plane.url}/register`,
    publicRequest({ client_name: name, contacts: [contact(name)], token_endpoint_auth_method: method, expires_at: new Date(START + 300 * DAY).toISOString() }),
  );
  expect(reg.status).toBe(201);
  return { clientId: String(reg.json['client_id']), secret: String(reg.json['client_secret']), method };
}

async function token(c: Registered): Promise<number> {
  const basic = c.method === 'client_secret_basic';
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic ? { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}` } : {}),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(basic ? {} : { client_id: c.clientId, client_secret: c.secret }) }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${plane.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

const consumer = (clientId: string) => plane.services.consumers.getConsumer(clientId);
const auditTypes = async (clientId: string) => (await plane.services.consumers.listAudit(clientId)).map((e) => e.type);
/** The emails to a consumer's contact, once the lifecycle notices under way have been delivered (the notice workflow). */
const mailsTo = async (name: string): Promise<OutboxMail[]> => {
  await plane.notices.drain();
  return readOutbox(plane.outboxDir).filter((m) => m.to.includes(contact(name)));
};

/** Approves a change request from its review emails, one distinct reviewer per round. */
/**
 * Decides each round from the first review email found for it, and returns who decided: each reviewer gets an email, and
 * emails sent in the same millisecond may be listed in either order.
 */
async function approveRequest(requestId: string, rounds = 1, decision: 'approve' | 'deny' = 'approve', comment = 'Agreed with the owner'): Promise<string[]> {
  const deciders: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const find = () => readOutbox(plane.outboxDir).find((m) => m.text.includes(requestId) && m.subject.includes(`approval ${round} of`));
    await expect.poll(find, { timeout: 5000 }).toBeDefined();
    const mail = find()!;
    expect((await submitDecision(reviewLink(mail), decision, comment)).status).toBe(200);
    deciders.push(...mail.to);
  }
  return deciders;
}

async function requestStatus(clientId: string, requestId: string): Promise<string | undefined> {
  return (await plane.services.requests.getRequest(clientId, requestId))?.status;
}

/** The default policy with client_secret_basic no longer allowed at low risk: a realistic tightening. */
function stricterPolicyFile(): string {
  const policy = JSON.parse(readFileSync(new URL('../../policy/policy.json', import.meta.url), 'utf8')) as {
    id: string;
    risks: { low: { authMethods: string[] } };
  };
  policy.risks.low.authMethods = ['client_secret_post', 'private_key_jwt'];
  const file = join(dataDir, 'policy-v2.json');
  writeFileSync(file, JSON.stringify(policy));
  return file;
}

let basicA: Registered;
let basicB: Registered;
let post: Registered;
let firstVersion: string;

beforeAll(async () => {
  plane = await startTestPlane({ dataDir, clock, consumerCacheMs: 0 });
  firstVersion = plane.services.policy.version;
  basicA = await register('basic-a');
  basicB = await register('basic-b');
  post = await register('post-c', 'client_secret_post');
  await plane.close();
  // The new policy is deployed.
  plane = await startTestPlane({ dataDir, clock, consumerCacheMs: 0, policyFile: stricterPolicyFile() });
});
afterAll(async () => {
  await plane?.close();
});

describe('local mode: policy drift, exceptions and reinstatement', () => {
  it('re-evaluates consumers once after a policy change: out of policy gets a grace period, in policy takes the new version', async () => {
    expect(plane.services.policy.version).not.toBe(firstVersion);
    offset = 1 * DAY;
    const result = await plane.sweep();
    expect(result.rollout).toMatchObject({ complete: true, outOfPolicy: 2, suspended: 0 });

    const a = await consumer(basicA.clientId);
    expect(a).toMatchObject({ status: 'active', policyVersion: firstVersion });
    expect(a!.outOfPolicy).toMatchObject({
      policyVersion: plane.services.policy.version,
      reasons: [expect.objectContaining({ code: 'auth_method_too_weak' })],
    });
    expect(Date.parse(a!.outOfPolicy!.suspendAt)).toBe(START + 15 * DAY);
    expect(a!.attentionAt).toBe(a!.outOfPolicy!.suspendAt);
    expect(await consumer(post.clientId)).toMatchObject({ status: 'active', policyVersion: plane.services.policy.version });
    expect(await auditTypes(post.clientId)).toContain('consumer.reevaluated');
    expect((await mailsTo('basic-a')).filter((m) => m.subject.includes('out of policy'))).toHaveLength(1);
    expect((await mailsTo('basic-a'))[0]!.text).toContain('auth_method_too_weak');
    // Within the grace period the consumer keeps working.
    expect(await token(basicA)).toBe(200);

    // The rollout is done: the next sweep neither scans nor re-evaluates anything.
    const again = await plane.sweep();
    expect(again.rollout).toMatchObject({ read: 0, reevaluated: 0, complete: true });
    expect((await auditTypes(basicA.clientId)).filter((t) => t === 'consumer.out_of_policy')).toHaveLength(1);
  });

  /** basic-b asks to keep client_secret_basic, which the stricter policy no longer allows at low risk, for `days` days. */
  const basicException = (days = 31) => ({
    client_id: basicB.clientId,
    rule: 'auth_method',
    value: 'client_secret_basic',
    justification: 'Legacy mainframe client cannot sign JWTs before Q3',
    expires_at: new Date(START + days * DAY).toISOString(),
  });

  it('refuses exceptions that change nothing, last too long or repeat a pending one, writing nothing', async () => {
    const before = await tableSnapshot(plane);
    const base = basicException();
    const notNeeded = await admin('POST', '/admin/exceptions', { ...base, client_id: post.clientId, value: 'client_secret_post' });
    expect(notNeeded).toMatchObject({ status: 409, type: 'application/problem+json', json: { type: expect.stringContaining('exception-not-needed') } });
    const tooLong = await admin('POST', '/admin/exceptions', { ...base, expires_at: new Date(START + 200 * DAY).toISOString() });
    expect(tooLong).toMatchObject({ status: 400, json: { detail: expect.stringContaining('at most 90 days') } });
    const otherMethod = await admin('POST', '/admin/exceptions', { ...base, value: 'client_secret_post' });
    expect(otherMethod.status).toBe(400);
    const badValue = await admin('POST', '/admin/exceptions', { ...base, rule: 'dormancy_days', value: 'forever' });
    expect(badValue.status).toBe(400);
    const shortJustification = await admin('POST', '/admin/exceptions', { ...base, justification: 'because' });
    expect(shortJustification.status).toBe(400);
    const unknown = await admin('POST', '/admin/exceptions', { ...base, client_id: 'gh_nobody' });
    expect(unknown.status).toBe(404);
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  let exceptionId: string;

  it('grants an exception only after review; it keeps the consumer in policy and is listed', async () => {
    const asked = await admin('POST', '/admin/exceptions', basicException());
    expect(asked.status).toBe(202);
    const exception = asked.json['exception'] as Record<string, unknown>;
    expect(exception).toMatchObject({
      type: 'exception',
      status: 'pending_review',
      rule: 'auth_method',
      approvals_required: 1,
      requested_by: expect.any(String),
    });
    exceptionId = String(exception['request_id']);
    expect(exceptionId).toMatch(/^exc-[0-9a-f]{24}$/);

    // Not in force while under review; a second request for the same rule is refused.
    expect((await consumer(basicB.clientId))!.exceptions).toBeUndefined();
    const again = await admin('POST', '/admin/exceptions', basicException(20));
    expect(again).toMatchObject({ status: 409, json: { type: expect.stringContaining('request-pending'), detail: expect.stringContaining(exceptionId) } });

    const approvers = await approveRequest(exceptionId);
    expect(approvers).toHaveLength(1);
    expect(plane.services.config.reviewers.default).toContain(approvers[0]);
    await expect.poll(() => requestStatus(basicB.clientId, exceptionId), { timeout: 5000 }).toBe('active');
    const b = await consumer(basicB.clientId);
    expect(b!.exceptions).toEqual([expect.objectContaining({ exceptionId, rule: 'auth_method', value: 'client_secret_basic', approvers })]);
    expect(b!.outOfPolicy).toBeUndefined();
    expect(await auditTypes(basicB.clientId)).toEqual(
      expect.arrayContaining(['request.created', 'request.review_requested', 'request.review_approved', 'exception.granted']),
    );
    expect((await mailsTo('basic-b')).some((m) => m.subject.includes('exception approved'))).toBe(true);

    const listed = await admin('GET', `/admin/exceptions?client_id=${basicB.clientId}&status=active`);
    expect(listed.json['exceptions']).toEqual([expect.objectContaining({ request_id: exceptionId, status: 'active' })]);
    const all = await admin('GET', '/admin/exceptions');
    expect((all.json['exceptions'] as Array<{ request_id: string }>).map((e) => e.request_id)).toContain(exceptionId);
    const evidence = await admin('GET', `/admin/consumers/${basicB.clientId}/evidence`);
    expect(evidence.json['exceptions']).toEqual([expect.objectContaining({ request_id: exceptionId, status: 'active' })]);
    expect(evidence.json['chain']).toMatchObject({ verified: true });
  });

  it('suspends a consumer still out of policy when its grace period ends, but not one an exception covers', async () => {
    offset = 15 * DAY;
    const result = await plane.sweep();
    expect(result.suspended).toBeGreaterThanOrEqual(1);
    expect(await consumer(basicA.clientId)).toMatchObject({ status: 'suspended', policyVersion: plane.services.policy.version });
    expect((await plane.services.consumers.listAudit(basicA.clientId)).at(-1)).toMatchObject({
      type: 'consumer.suspended',
      data: { reason: 'out_of_policy', reasons: ['auth_method_too_weak'] },
    });
    expect(await token(basicA)).toBe(401);
    expect(await consumer(basicB.clientId)).toMatchObject({ status: 'active' });
    expect(await token(basicB)).toBe(200);

    // Reinstatement is refused while it still breaks the policy, and says why.
    const refused = await admin('POST', `/admin/consumers/${basicA.clientId}/reinstate`, { reason: 'Owner asks to resume' });
    expect(refused).toMatchObject({
      status: 409,
      json: { type: expect.stringContaining('out-of-policy'), detail: expect.stringContaining('auth_method_too_weak') },
    });
  });

  it('warns before an exception ends, then ends it and suspends the consumer it kept in policy', async () => {
    offset = 18 * DAY; // past the warning time (midpoint of a 30-day exception, later than 14 days before its end)
    await plane.sweep();
    await plane.sweep();
    expect((await mailsTo('basic-b')).filter((m) => m.subject.includes('action needed'))).toHaveLength(1);
    expect((await mailsTo('basic-b')).find((m) => m.subject.includes('action needed'))!.text).toContain('exception to the access policy ends');

    offset = 31 * DAY + 1000;
    // Two sweeps at once: the exception ends once, with one audit event.
    const [one, two] = await Promise.all([plane.sweep(), plane.sweep()]);
    expect(one.exceptionsEnded + two.exceptionsEnded).toBe(1);
    expect((await auditTypes(basicB.clientId)).filter((t) => t === 'exception.ended')).toHaveLength(1);
    const b = await consumer(basicB.clientId);
    expect(b).toMatchObject({ status: 'suspended' });
    expect(b!.exceptions).toBeUndefined();
    expect(await requestStatus(basicB.clientId, exceptionId)).toBe('ended');
    expect((await plane.services.consumers.listAudit(basicB.clientId)).at(-1)).toMatchObject({
      type: 'exception.ended',
      data: { exceptionId, reason: 'expired', outcome: 'suspended', reasons: ['auth_method_too_weak'] },
    });
    expect(await token(basicB)).toBe(401);
    expect((await mailsTo('basic-b')).some((m) => m.subject.includes('exception ended, access suspended'))).toBe(true);
    expect((await plane.sweep()).exceptionsEnded).toBe(0);
  });

  let reinstatementId: string;

  it('reinstates a suspended consumer only after review; a denied reinstatement leaves it suspended', async () => {
    const suspended = await admin('POST', `/admin/consumers/${post.clientId}/suspend`, { reason: 'Suspected credential leak' });
    expect(suspended.status).toBe(200);
    expect(await token(post)).toBe(401);

    const first = await admin('POST', `/admin/consumers/${post.clientId}/reinstate`, { reason: 'Secret rotated, leak contained' });
    expect(first.status).toBe(202);
    const denyId = String((first.json['request'] as Record<string, unknown>)['request_id']);
    expect((await admin('POST', `/admin/consumers/${post.clientId}/reinstate`, { reason: 'again' })).status).toBe(409);
    await approveRequest(denyId, 1, 'deny', 'Wait for the incident report');
    await expect.poll(() => requestStatus(post.clientId, denyId), { timeout: 5000 }).toBe('denied');
    expect(await consumer(post.clientId)).toMatchObject({ status: 'suspended' });

    offset += 60_000;
    const second = await admin('POST', `/admin/consumers/${post.clientId}/reinstate`, { reason: 'Incident report received' });
    reinstatementId = String((second.json['request'] as Record<string, unknown>)['request_id']);
    const [reinstatedBy] = await approveRequest(reinstatementId);
    await expect.poll(async () => (await consumer(post.clientId))?.status, { timeout: 5000 }).toBe('active');
    expect(await requestStatus(post.clientId, reinstatementId)).toBe('approved');
    const c = await consumer(post.clientId);
    expect(c!.approvals).toEqual([expect.objectContaining({ reviewer: reinstatedBy })]);
    expect(Date.parse(c!.activatedAt!)).toBe(START + offset); // the dormancy clock restarts
    expect(await token(post)).toBe(200);
    const shown = await admin('GET', `/admin/consumers/${post.clientId}`);
    expect((shown.json['requests'] as Array<{ request_id: string; status: string }>).map((r) => [r.request_id, r.status])).toEqual([
      [denyId, 'denied'],
      [reinstatementId, 'approved'],
    ]);
    expect(shown.json['audit']).toMatchObject({ chain_verified: true });
    expect(await auditTypes(post.clientId)).toEqual(expect.arrayContaining(['request.review_denied', 'request.denied', 'consumer.reinstated']));
  });

  it('ends a revoked consumer’s exceptions with it', async () => {
    const asked = await admin('POST', '/admin/exceptions', {
      client_id: post.clientId,
      rule: 'dormancy_days',
      value: 180,
      justification: 'Quarterly regulatory batch: used four times a year',
      expires_at: new Date(START + offset + 60 * DAY).toISOString(),
    });
    expect(asked.status).toBe(202);
    const id = String((asked.json['exception'] as Record<string, unknown>)['request_id']);
    await approveRequest(id);
    await expect.poll(() => requestStatus(post.clientId, id), { timeout: 5000 }).toBe('active');
    const c = await consumer(post.clientId);
    // The longer dormancy window applies while the exception lasts.
    expect(dormancyCutoff(c!)).toBe(Date.parse(c!.activatedAt!) + 180 * DAY);

    expect((await admin('POST', `/admin/consumers/${post.clientId}/terminate`, { reason: 'Contract ended' })).status).toBe(200);
    expect(await requestStatus(post.clientId, id)).toBe('ended');
    expect((await consumer(post.clientId))!.exceptions).toBeUndefined();
    expect((await plane.services.consumers.listAudit(post.clientId)).at(-1)).toMatchObject({ type: 'exception.ended', data: { reason: 'consumer_revoked' } });
  });

  it('backfills the attention index for consumers written before it existed, in the first rollout after an upgrade', async () => {
    const legacy = await register('legacy-d', 'client_secret_post');
    // As an older release stored it: no attention time, not in the index, and no rollout record yet.
    await plane.documentClient.send(
      new UpdateCommand({
        TableName: plane.tableName,
        Key: { pk: `CONSUMER#${legacy.clientId}`, sk: 'CONSUMER' },
        UpdateExpression: 'REMOVE attentionAt, gsi1pk, gsi1sk',
      }),
    );
    await plane.documentClient.send(new DeleteCommand({ TableName: plane.tableName, Key: { pk: 'SYSTEM#policy-rollout', sk: 'STATE' } }));

    const result = await plane.sweep();
    expect(result.rollout).toMatchObject({ complete: true, rearmed: 1, reevaluated: 0 });
    const c = await consumer(legacy.clientId);
    expect(c!.attentionAt).toBe(attentionAt(c!, plane.services.policy.document.lifecycle));
    expect(c!.attentionAt).toBeDefined();
    expect((await plane.sweep()).rollout).toMatchObject({ read: 0, rearmed: 0 });
  });
});
