import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, registerPartner, startTestPlane, tableSnapshot } from './local-mode.js';
import { reviewLink } from './outbox.js';
import { awaitReviewEmail, openReviewPage, reviewEmails, submitDecision } from './review-flow.js';

const ALICE = 'alice.reviewer@bank.example';
const BOB = 'bob.reviewer@bank.example';

let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ reviewers: { default: [ALICE, BOB] } });
});
afterAll(async () => {
  await plane?.close();
});

async function resend(path: string): Promise<{ status: number; type: string | null; json: Record<string, unknown> }> {
  const res = await fetch(`${plane.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${plane.adminToken}` } });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

describe('local mode over HTTP: an operator resends review links', () => {
  it("sends the open round's reviewers fresh links that work, ends the earlier ones, and audits it under the operator", async () => {
    const reg = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'], contacts: ['ops@fintech.example'] });
    expect(reg.status).toBe(202);
    const clientId = reg.clientId;
    const first = await awaitReviewEmail(plane, ALICE, clientId, 1);
    await expect.poll(() => reviewEmails(plane, clientId, 1).length).toBe(2);

    const resent = await resend(`/admin/consumers/${clientId}/review-links`);

    expect(resent.status).toBe(200);
    expect(resent.json).toMatchObject({ client_id: clientId, round: 1 });
    expect((resent.json['recipients'] as string[]).sort()).toEqual([ALICE, BOB]);
    await expect.poll(() => reviewEmails(plane, clientId, 1).length).toBe(4);
    const fresh = reviewEmails(plane, clientId, 1).filter((m) => m.to.includes(ALICE) && m.file !== first.file);
    expect(fresh).toHaveLength(1);
    expect(reviewLink(fresh[0]!)).not.toBe(reviewLink(first));

    // The earlier link stopped working; the new one approves, and the review goes on to its second approval.
    expect((await openReviewPage(reviewLink(first))).status).toBe(403);
    expect((await submitDecision(reviewLink(fresh[0]!), 'approve', 'Checked again')).status).toBe(200);
    await awaitReviewEmail(plane, BOB, clientId, 2);

    const shown = await fetch(`${plane.url}/admin/consumers/${clientId}`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
    const events = ((await shown.json()) as { audit: { chain_verified: boolean; events: Array<{ type: string; actor: { kind: string } }> } }).audit;
    expect(events.chain_verified).toBe(true);
    expect(events.events.find((e) => e.type === 'review.links_resent')).toMatchObject({ actor: { kind: 'operator' } });
  });

  it('answers 409 problem+json for a consumer not pending review, 404 for an unknown one, and changes nothing', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    expect(reg.status).toBe(201);
    const before = await tableSnapshot(plane);

    const active = await resend(`/admin/consumers/${String(reg.json['client_id'])}/review-links`);
    const unknown = await resend('/admin/consumers/gh_doesnotexist00000/review-links');
    const noRequest = await resend(`/admin/consumers/${String(reg.json['client_id'])}/requests/no-such-request/review-links`);

    expect(active.status).toBe(409);
    expect(active.type).toContain('application/problem+json');
    expect(String(active.json['detail'])).toContain('not pending review');
    expect(unknown.status).toBe(404);
    expect(noRequest.status).toBe(404);
    expect(await tableSnapshot(plane)).toEqual(before);
  });
});
