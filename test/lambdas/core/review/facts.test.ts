import { describe, expect, it } from 'vitest';
import type { ChangeRequest } from '../../../../lambdas/core/requests/change-request.js';
import { organisationWarnings, reviewFacts, type ReviewFacts } from '../../../../lambdas/core/review/facts.js';
import { CLIENT_ID, DAY_MS, defaultPolicy, NOW } from '../../fixtures.js';
import { ALICE, pendingConsumer } from './fixtures.js';

const lines = (facts: ReviewFacts, label: string): readonly string[] | undefined =>
  facts.sections.flatMap((s) => s.facts).find((f) => f.label === label)?.lines;

describe('organisationWarnings', () => {
  it.each([
    ['Fintech Ltd', 'Fintech SME payments'],
    ['Fintech Ltd.', 'FINTECH payments'],
    ['Société Générale S.A.', 'Societe-Generale treasury'],
    ['ACME Corp', 'acme'],
  ])('accepts %s behind the application name %s', (organisation, clientName) => {
    expect(organisationWarnings({ organisation, clientName, softwareId: 'app' })).toEqual([]);
  });

  it.each([
    ['Fintech Ltd', 'SME payments'],
    ['Fintech Ltd', 'Big Bank payments'],
    ['Fintech Ltd', 'Fintec payments'],
  ])('warns when %s does not appear in the application name %s', (organisation, clientName) => {
    const [warning] = organisationWarnings({ organisation, clientName, softwareId: 'app' });

    expect(warning).toContain(`The application calls itself "${clientName}", which does not contain the name of the verified organisation, "${organisation}".`);
  });

  it('warns when no organisation is on record, naming the software id when there is one', () => {
    expect(organisationWarnings({ organisation: undefined, clientName: 'x', softwareId: 'app-1' })).toEqual([
      'The software statement (software id app-1) names no organisation: confirm who is asking before you approve.',
    ]);
    expect(organisationWarnings({ organisation: ' ', clientName: 'x', softwareId: undefined })[0]).toContain('No software statement is on record');
  });
});

describe('reviewFacts', () => {
  const round = { round: 1, approvalsRequired: 2 };

  it('describes every scope and data class from the policy, and unknown ones as such', () => {
    const facts = reviewFacts(
      pendingConsumer({ scopes: ['payments:initiate', 'legacy:thing'], dataClasses: ['payment', 'legacy'] }),
      defaultPolicy,
      round,
      NOW,
    );

    expect(lines(facts, 'Scopes')).toEqual([
      'payments:initiate (high risk): Initiate payments from customer accounts.',
      "legacy:thing (unknown risk): not in the policy's catalogue.",
    ]);
    expect(lines(facts, 'Data classes')).toEqual([
      'payment (high risk): Payment orders and beneficiary details (PSD2 payment initiation).',
      "legacy (unknown risk): not in the policy's catalogue.",
    ]);
  });

  it('writes policy reasons as sentences without codes or doubled punctuation', () => {
    const facts = reviewFacts(
      pendingConsumer({
        decisionReasons: [
          { code: 'risk_requires_review', subject: 'high', message: 'high risk needs 2 approval(s).' },
          { code: 'payment_initiation_requires_review', subject: 'payments:initiate', message: 'Scope "payments:initiate" is payment initiation.' },
        ],
      }),
      defaultPolicy,
      round,
      NOW,
    );

    expect(lines(facts, 'Why review')).toEqual(['High risk needs 2 approvals.', 'Scope "payments:initiate" is payment initiation.']);
  });

  it('gives the grant length from registration and the time left from now', () => {
    const consumer = pendingConsumer({
      createdAt: new Date(NOW.getTime() - 4 * DAY_MS).toISOString(),
      expiresAt: new Date(NOW.getTime() + 86 * DAY_MS).toISOString(),
    });

    expect(lines(reviewFacts(consumer, defaultPolicy, round, NOW), 'Access until')).toEqual([
      '19 February 2027, in 86 days',
      'A grant of 90 days from 21 November 2026; high risk allows at most 90 days.',
    ]);
  });

  it('describes an exception request, its end date in words and the controls it would relax', () => {
    const request: ChangeRequest = {
      requestId: 'req-1',
      type: 'exception',
      clientId: CLIENT_ID,
      status: 'pending_review',
      requestedBy: 'ops-admin',
      justification: 'Legacy batch job until migration',
      grant: { rule: 'dormancy_days', value: 120 },
      expiresAt: '2027-01-10T00:00:00.000Z',
      risk: 'high',
      approvalsRequired: 2,
      approvals: [{ reviewer: ALICE, round: 1, at: NOW.toISOString(), comment: 'Fine for a quarter' }],
      reviewSlaHours: 72,
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      version: 1,
    };

    const facts = reviewFacts(pendingConsumer({ status: 'active' }), defaultPolicy, { round: 2, approvalsRequired: 2 }, NOW, request);

    expect(lines(facts, 'Request')).toEqual([
      'Exception (dormancy_days): stay active after up to 120 days without use, until 10 January 2027.',
      'Request id req-1.',
    ]);
    expect(lines(facts, 'Consumer status')).toEqual(['active']);
    expect(lines(facts, 'Approval 1')).toEqual([`${ALICE} approved on 25 November 2026 at 10:00 UTC.`, 'Comment: “Fine for a quarter”']);
    expect(lines(facts, 'Why review')).toBeUndefined();
    expect(facts.sections.map((s) => s.heading)).toContain('Controls in force now (the exception relaxes one of them)');
  });

  it('lists an exception in force among the controls', () => {
    const consumer = pendingConsumer({
      exceptions: [
        {
          rule: 'sender_constraint',
          value: 'none',
          exceptionId: 'e1',
          grantedAt: NOW.toISOString(),
          expiresAt: '2027-01-10T00:00:00.000Z',
          approvers: [ALICE],
        },
      ],
    });

    expect(lines(reviewFacts(consumer, defaultPolicy, round, NOW), 'Exception in force')).toEqual([
      'Until 10 January 2027, the consumer gets access tokens without DPoP.',
    ]);
  });
});
