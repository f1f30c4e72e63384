import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { PolicyDocument } from '../../lambdas/core/policy/schema.js';
import { attestationLinkKeysFor, signAttestationLink } from '../../lambdas/core/recertification/link.js';
import { reviewLinkKeysFor, signReviewLink } from '../../lambdas/core/review/link-token.js';
import { readOutbox, type OutboxMail } from './outbox.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

/**
 * Periodic recertification end to end over HTTP, driven by the plane's clock: the sweep sends attestation links when a
 * consumer falls due, the owner attests from the link (dropping an unused scope), and a consumer nobody attests is
 * suspended once the grace period ends. The policy is the shipped one with a 30-day low-risk period, so a low-risk
 * consumer falls due before its grant ends, and with tokens:introspect open to the public tier, so it holds two scopes.
 */
const run = promisify(execFile);
const DAY = 86_400_000;
const START = Date.now();
let offset = 0;
const clock = { now: () => new Date(START + offset) };
let plane: LocalControlPlane;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-recert-'));
  const policy = JSON.parse(readFileSync(new URL('../../policy/policy.json', import.meta.url), 'utf8')) as PolicyDocument;
  policy.tiers.public.scopes.push('tokens:introspect');
  policy.tiers.public.dataClasses.push('operational');
  policy.lifecycle.recertificationDays = { low: 30, medium: 30, high: 30 };
  policy.lifecycle.recertificationGraceDays = 14;
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  plane = await startTestPlane({ clock, consumerCacheMs: 0, policyFile: join(dir, 'policy.json') });
});
afterAll(async () => {
  await plane?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Registered {
  readonly clientId: string;
  readonly secret: string;
}

async function register(contact: string): Promise<Registered> {
  const reg = await postJson(
    `${plane.url}/register`,
    publicRequest({
      scope: 'reference-data:read tokens:introspect',
      data_classes: ['public', 'operational'],
      contacts: [contact],
      expires_at: new Date(START + 300 * DAY).toISOString(),
    }),
  );
  expect(reg.status, JSON.stringify(reg.json)).toBe(201);
  return { clientId: String(reg.json['client_id']), secret: String(reg.json['client_secret']) };
}

async function token(c: Registered, scope: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const mailsTo = async (contact: string): Promise<OutboxMail[]> => {
  await plane.notices.drain();
  return readOutbox(plane.outboxDir).filter((m) => m.to.includes(contact));
};

const attestationLink = (mail: OutboxMail): string => {
  const m = /(http:\/\/\S+\/recertifications\/\S+)/.exec(mail.text);
  if (!m) throw new Error(`no attestation link in ${mail.subject}`);
  return m[1]!;
};

/** Opens an attestation link as a browser would: the page, its CSRF cookie and hidden fields. */
async function openPage(link: string): Promise<{ status: number; html: string; cookie: string; fields: Record<string, string> }> {
  const res = await fetch(link);
  const html = await res.text();
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(t|csrf)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  return { status: res.status, html, cookie: res.headers.get('set-cookie')?.split(';')[0] ?? '', fields };
}

async function answer(
  link: string,
  form: Record<string, string | string[]>,
  page?: Awaited<ReturnType<typeof openPage>>,
): Promise<{ status: number; html: string }> {
  const opened = page ?? (await openPage(link));
  const body = new URLSearchParams({ t: opened.fields['t'] ?? new URL(link).searchParams.get('t') ?? '', csrf: opened.fields['csrf'] ?? '' });
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  const url = new URL(link);
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: opened.cookie },
    body,
  });
  return { status: res.status, html: await res.text() };
}

async function admin(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const recertifications = async () =>
  (await admin('/admin/recertifications?within_days=0')).json['recertifications'] as Array<{ clientId: string; state: string; last?: Record<string, unknown> }>;

describe('local mode: periodic recertification, clock-driven', () => {
  let attested: Registered;
  let ignored: Registered;
  let link: string;

  it('sends each contact a single-use attestation link when a consumer falls due, not before', async () => {
    attested = await register('owner-a@fintech.example');
    ignored = await register('owner-b@fintech.example');
    expect((await token(attested, 'reference-data:read')).status).toBe(200);

    offset = 29 * DAY;
    expect((await plane.sweep()).recertificationsDue).toBe(0);
    expect(await mailsTo('owner-a@fintech.example')).toHaveLength(0);

    offset = 31 * DAY;
    expect((await plane.sweep()).recertificationsDue).toBe(2);
    await plane.sweep(); // a second run sends nothing more
    expect(plane.metrics.total('RecertificationsDue')).toBe(2);
    const mails = (await mailsTo('owner-a@fintech.example')).filter((m) => m.subject.includes('confirm its access'));
    expect(mails).toHaveLength(1);
    link = attestationLink(mails[0]!);
    expect(mails[0]!.text).toContain('Never used: tokens:introspect');
    expect((await recertifications()).find((r) => r.clientId === attested.clientId)).toMatchObject({ state: 'due' });
  });

  it('shows what the consumer holds and used, and changes nothing on GET', async () => {
    const before = await plane.services.consumers.getConsumer(attested.clientId);
    const page = await openPage(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('tokens:introspect');
    expect(page.html).toContain('never used');
    expect(page.html).toContain('name="drop" value="tokens:introspect"');
    expect(page.html).not.toContain('name="drop" value="reference-data:read"');
    expect(page.html).toContain('client_secret_basic');
    expect(await plane.services.consumers.getConsumer(attested.clientId)).toEqual(before);
  });

  it('records an attestation with a scope drop: the grant shrinks at once and the next period starts', async () => {
    const result = await answer(link, { action: 'confirm', drop: 'tokens:introspect' });
    expect(result.status, result.html).toBe(200);
    expect(result.html).toContain('Dropped: tokens:introspect');
    expect(plane.metrics.total('RecertificationOutcomes', { outcome: 'scopes_dropped' })).toBe(1);
    expect(plane.metrics.total('RecertificationOutcomes')).toBe(1);

    expect((await token(attested, 'tokens:introspect')).json).toMatchObject({ error: 'invalid_scope' });
    expect((await token(attested, 'reference-data:read')).status).toBe(200);
    const consumer = (await plane.services.consumers.getConsumer(attested.clientId))!;
    expect(consumer.scopes).toEqual(['reference-data:read']);
    expect(consumer.recertification).toMatchObject({
      dueAt: new Date(START + 61 * DAY).toISOString(),
      last: { attestedBy: 'owner-a@fintech.example', scopesRemoved: ['tokens:introspect'] },
    });
    const audit = await plane.services.consumers.listAudit(attested.clientId);
    expect(audit.at(-1)).toMatchObject({
      type: 'consumer.recertified',
      actor: { kind: 'consumer', id: 'owner-a@fintech.example' },
      data: { attestedBy: 'owner-a@fintech.example', scopesRemoved: ['tokens:introspect'] },
    });

    const evidence = await admin(`/admin/consumers/${attested.clientId}/evidence`);
    expect(evidence.json['recertification']).toMatchObject({
      last_attestation: { attested_by: 'owner-a@fintech.example', scopes_removed: ['tokens:introspect'] },
      due_at: new Date(START + 61 * DAY).toISOString(),
    });
    const shown = await admin(`/admin/consumers/${attested.clientId}`);
    expect(shown.json['consumer']).toMatchObject({ recertification: { last: { attestedBy: 'owner-a@fintech.example' } } });
  });

  it('refuses a link that was already used, and records nothing', async () => {
    const seq = (await plane.services.consumers.getConsumer(attested.clientId))!.auditSeq;
    const again = await openPage(link);
    expect(again.status).toBe(409);
    expect(again.html).toContain('already used');
    const post = await answer(link, { action: 'confirm' }, { ...again, fields: { t: new URL(link).searchParams.get('t')!, csrf: 'x' }, cookie: 'gh_rcsrf=x' });
    expect(post.status).toBe(409);
    expect((await plane.services.consumers.getConsumer(attested.clientId))!.auditSeq).toBe(seq);
    expect(plane.metrics.total('RecertificationOutcomes')).toBe(1);
  });

  it('tells review links and attestation links apart', async () => {
    const now = clock.now();
    const services = plane.services;
    const reviewToken = await signReviewLink(
      reviewLinkKeysFor(services),
      services.config.issuer,
      { reviewId: ignored.clientId, reviewer: 'owner-b@fintech.example', linkId: 'x' },
      new Date(now.getTime() + DAY),
      now,
    );
    const asAttestation = await openPage(`${plane.url}/recertifications/${ignored.clientId}?t=${encodeURIComponent(reviewToken)}`);
    expect(asAttestation.status).toBe(403);
    expect(asAttestation.html).toContain('not valid');

    const attestationToken = await signAttestationLink(
      attestationLinkKeysFor(services),
      services.config.issuer,
      { clientId: ignored.clientId, contact: 'owner-b@fintech.example', linkId: 'x' },
      new Date(now.getTime() + DAY),
      now,
    );
    const asReview = await fetch(`${plane.url}/reviews/${ignored.clientId}?t=${encodeURIComponent(attestationToken)}`);
    expect(asReview.status).toBe(403);
    // Signed correctly and for the right consumer, but not one of the links sent: refused too.
    expect((await openPage(`${plane.url}/recertifications/${ignored.clientId}?t=${encodeURIComponent(attestationToken)}`)).status).toBe(403);
  });

  it('reminds, then suspends an unattested consumer with reason recertification_overdue once the grace period ends', async () => {
    expect((await token(ignored, 'reference-data:read')).status).toBe(200);
    offset = 39 * DAY; // half-way through the grace period
    expect((await plane.sweep()).warned).toBeGreaterThanOrEqual(1);
    const reminders = (await mailsTo('owner-b@fintech.example')).filter((m) => m.subject.includes('action needed'));
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.text).toContain('will be suspended on');

    offset = 44 * DAY + 60_000;
    const result = await plane.sweep();
    expect(result.suspended).toBe(1); // the attested consumer is not due again
    expect(result.recertificationsOverdue).toBe(1);
    expect(plane.metrics.total('RecertificationOutcomes', { outcome: 'suspended_overdue' })).toBe(1);
    expect((await token(ignored, 'reference-data:read')).status).toBe(401);
    expect((await token(attested, 'reference-data:read')).status).toBe(200);
    const audit = await plane.services.consumers.listAudit(ignored.clientId);
    expect(audit.at(-1)).toMatchObject({ type: 'consumer.suspended', actor: { id: 'lifecycle-sweep' }, data: { reason: 'recertification_overdue' } });
    expect((await mailsTo('owner-b@fintech.example')).some((m) => m.subject.includes('recertification overdue'))).toBe(true);
    const list = decodeJwt(await (await fetch(`${plane.url}/oauth2/revocations`)).text()) as { revoked_clients: Array<Record<string, unknown>> };
    expect(list.revoked_clients.find((c) => c['client_id'] === ignored.clientId)).toMatchObject({ status: 'suspended' });
    expect((await recertifications()).find((r) => r.clientId === ignored.clientId)).toMatchObject({ state: 'suspended' });
    // Its link ended with the grace period.
    const link = attestationLink((await mailsTo('owner-b@fintech.example')).find((m) => m.subject.includes('confirm its access'))!);
    expect((await openPage(link)).status).toBe(410);
  });

  it('lists what is due and overdue through the operator CLI’s real entry point', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/cli.ts', 'recertification', '--within', '30'], {
      env: { ...process.env, GATEHOUSE_URL: plane.url, GATEHOUSE_ADMIN_TOKEN: plane.adminToken },
    });
    const rows = stdout.split('\n');
    expect(rows[0]).toMatch(/^clientId\s+clientName\s+risk\s+state\s+dueAt\s+suspendAt\s+lastAttested\s+scopesRemoved$/);
    const suspended = rows.find((r) => r.startsWith(ignored.clientId));
    expect(suspended).toMatch(/\ssuspended\s/);
    expect(suspended).toMatch(/\snever$/);
    const upcoming = rows.find((r) => r.startsWith(attested.clientId));
    expect(upcoming).toMatch(/\supcoming\s/);
    expect(upcoming).toContain('by owner-a@fintech.example');
    expect(upcoming).toMatch(/tokens:introspect$/);
  });
});
