import { afterEach, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { LOCAL_ADMIN_ARN } from '../../lambdas/adapters/local/http-server.js';
import { postJson, publicRequest, registerPartner, startTestPlane, tableSnapshot } from './local-mode.js';
import { readOutbox, reviewLink } from './outbox.js';
import { awaitReviewEmail, reviewEmails, submitDecision } from './review-flow.js';

/** Separation of duties over local mode: who asks for a change never decides it, whatever address they use. */

let plane: LocalControlPlane | undefined;
afterEach(async () => {
  await plane?.close();
  plane = undefined;
});

async function admin(p: LocalControlPlane, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return postJson(`${p.url}${path}`, body, { authorization: `Bearer ${p.adminToken}` });
}

async function registerPublic(p: LocalControlPlane, overrides: Record<string, unknown> = {}): Promise<string> {
  const reg = await postJson(`${p.url}/register`, publicRequest(overrides));
  expect(reg.status).toBe(201);
  return String(reg.json['client_id']);
}

const dormancyException = (clientId: string) => ({
  client_id: clientId,
  rule: 'dormancy_days',
  value: 180,
  justification: 'Quarterly batch job: idle for months between runs',
  expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
});

describe('operators are people (admin token in local mode)', () => {
  it('an operator who is also a reviewer asks for an exception and gets no link to approve it alone', async () => {
    plane = await startTestPlane({ operator: 'Alice.Reviewer@bank.example' });
    const clientId = await registerPublic(plane);

    const asked = await admin(plane, '/admin/exceptions', dormancyException(clientId));
    expect(asked.status).toBe(202);
    const exception = asked.json['exception'] as Record<string, unknown>;
    expect(exception).toMatchObject({ requested_by: 'alice.reviewer@bank.example', requested_by_principal: LOCAL_ADMIN_ARN, approvals_required: 1 });

    // The other reviewers are asked; the requester is not, though she is in the reviewer group.
    const bob = await awaitReviewEmail(plane, 'bob.reviewer@bank.example', clientId, 1);
    await awaitReviewEmail(plane, 'carol.reviewer@bank.example', clientId, 1);
    expect(
      reviewEmails(plane, clientId, 1)
        .map((m) => m.to)
        .flat(),
    ).not.toContain('alice.reviewer@bank.example');
    expect(readOutbox(plane.outboxDir).some((m) => m.to.includes('alice.reviewer@bank.example'))).toBe(false);

    // The audit trail names both the principal and the person.
    const created = (await plane.services.consumers.listAudit(clientId)).find((e) => e.type === 'request.created');
    expect(created?.actor).toEqual({ kind: 'operator', id: LOCAL_ADMIN_ARN, person: 'alice.reviewer@bank.example' });

    // Another reviewer's approval is what makes it active.
    expect((await submitDecision(reviewLink(bob), 'approve', 'Agreed')).status).toBe(200);
    await expect
      .poll(async () => (await plane!.services.requests.getRequest(clientId, String(exception['request_id'])))?.status, { timeout: 5000 })
      .toBe('active');
  });
});

describe('separation of duties by person, not by string', () => {
  it('refuses a partner naming a reviewer (in any spelling) as its contact, and writes nothing', async () => {
    plane = await startTestPlane();
    const before = await tableSnapshot(plane);
    const reg = await registerPartner(plane, { scope: 'payments:initiate', data_classes: ['payment'], contacts: ['Alice.Reviewer+ops@Bank.example'] });
    expect(reg.status).toBe(400);
    expect(reg.json).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('address of the bank') });
    expect(await tableSnapshot(plane)).toEqual(before);
  });

  it('fails closed with a clear reason when the requester, under a +tag, is the only reviewer left', async () => {
    plane = await startTestPlane({ operator: 'Alice.Reviewer+oncall@bank.example', reviewers: { default: ['alice.reviewer@bank.example'] } });
    const clientId = await registerPublic(plane);
    const before = await tableSnapshot(plane);
    const asked = await admin(plane, '/admin/exceptions', dormancyException(clientId));
    expect(asked.status).toBe(409);
    expect(asked.json).toMatchObject({ type: expect.stringContaining('too-few-reviewers'), detail: expect.stringContaining('0 reviewer(s) left') });
    expect(await tableSnapshot(plane)).toEqual(before);
  });
});
