import { describe, expect, it } from 'vitest';
import type { Consumer, ConsumerStatus } from '../../../../lambdas/core/consumer/consumer.js';
import { outcomeEmail, reviewerEmail } from '../../../../lambdas/core/review/emails.js';
import type { Review } from '../../../../lambdas/core/review/review.js';
import { CLIENT_ID, defaultPolicy, NOW } from '../../fixtures.js';
import { ISSUER } from '../../handlers/fixtures.js';
import { ALICE, BOB, OPS, pendingConsumer, REVIEW_ID, reviewFixture } from './fixtures.js';

const LINK = `${ISSUER}/reviews/${REVIEW_ID}?t=eyJhbGciOiJFUzI1NiJ9.payload.sig&x=1`;
const STATUS_URI = `${ISSUER}/register/${CLIENT_ID}`;

describe('reviewerEmail', () => {
  const consumer = pendingConsumer({ organisation: 'Fintech Ltd', approvals: [] });
  const email = reviewerEmail(consumer, reviewFixture(), ALICE, LINK, defaultPolicy, NOW);
  const send = (overrides: Partial<Consumer> = {}, review: Partial<Review> = {}) =>
    reviewerEmail(pendingConsumer(overrides), reviewFixture(review), ALICE, LINK, defaultPolicy, NOW);

  it('goes to the one reviewer it is for, naming the consumer, tier, risk and round in the subject', () => {
    expect(email.to).toEqual([ALICE]);
    expect(email.subject).toBe('[Gatehouse] Review needed: SME payments (partner, high risk) — approval 1 of 2');
  });

  it('puts the link before the facts, in the text and in the HTML', () => {
    const lines = email.text.split('\n');
    expect(lines.indexOf(LINK)).toBeGreaterThan(0);
    expect(lines.indexOf(LINK)).toBeLessThan(lines.findIndex((l) => l.startsWith('Verified organisation')));
    expect(email.html!.indexOf('Open the review')).toBeLessThan(email.html!.indexOf('Verified organisation'));
  });

  // Every fact a reviewer decides from, as it reads in the text and as it reads in an HTML table cell.
  const facts: Array<[string, string, string]> = [
    ['verified organisation', 'Verified organisation: Fintech Ltd', '<th style="[^"]*">Verified organisation</th><td style="[^"]*">Fintech Ltd</td>'],
    ['application name', 'Application name: SME payments (chosen by the requester)', '>SME payments \\(chosen by the requester\\)</td>'],
    ['client id', `Client id: ${CLIENT_ID}`, `>${CLIENT_ID}</td>`],
    ['tier with its description', 'Tier: partner — Contracted third parties:', '>partner — Contracted third parties:'],
    [
      'scope with its risk and description',
      'payments:initiate (high risk): Initiate payments from customer accounts.',
      '>payments:initiate \\(high risk\\): Initiate payments from customer accounts.</td>',
    ],
    [
      'data class with its description',
      'payment (high risk): Payment orders and beneficiary details (PSD2 payment initiation).',
      '>payment \\(high risk\\): Payment orders and beneficiary details \\(PSD2 payment initiation\\).</td>',
    ],
    ['purpose', 'Purpose: Initiate supplier payments on behalf of SME customers', '>Initiate supplier payments on behalf of SME customers</td>'],
    ['reason as a sentence without its code', 'Why review: Payment initiation needs two reviewers.', '>Payment initiation needs two reviewers.</td>'],
    ['grant end in words', '25 December 2026, in 30 days', '>25 December 2026, in 30 days<'],
    [
      'grant length',
      'A grant of 30 days from 25 November 2026; high risk allows at most 90 days.',
      'A grant of 30 days from 25 November 2026; high risk allows at most 90 days.',
    ],
    ['contacts', `Contacts: ${OPS}, Dana.Reviewer@Bank.Example`, `>${OPS}, Dana.Reviewer@Bank.Example</td>`],
    ['software id', 'Software id: sme-payments', '>sme-payments</td>'],
    ['policy version', `Policy: ${defaultPolicy.version}`, `>${defaultPolicy.version}</td>`],
    [
      'auth method',
      'Client authentication: Signed assertion from a private key only the client holds (private_key_jwt)',
      '>Signed assertion from a private key only the client holds \\(private_key_jwt\\)',
    ],
    [
      'DPoP requirement',
      'Token binding: Every access token is bound to the client’s key (DPoP)',
      '>Every access token is bound to the client’s key \\(DPoP\\)',
    ],
    ['token lifetime', 'Access-token lifetime: 5 minutes', '>5 minutes; the client asks again'],
    ['dormancy window', 'Dormancy: Suspended automatically after 30 days without use.', '>Suspended automatically after 30 days without use.</td>'],
    ['deadline', 'expires 28 November 2026 at 10:00 UTC, in 3 days', 'expires 28 November 2026 at 10:00 UTC, in 3 days'],
  ];

  it.each(facts)('shows the %s in the text and in the HTML', (_fact, text, html) => {
    expect(email.text).toContain(text);
    expect(email.html).toMatch(new RegExp(html));
  });

  it('shows no raw ISO timestamp and no reason code', () => {
    for (const part of [email.text, email.html]) {
      expect(part).not.toMatch(/\d{4}-\d\d-\d\dT/);
      expect(part).not.toContain('payment_initiation_requires_review');
    }
  });

  it('shows the earlier approvers and their comments in both parts', () => {
    const mail = send(
      { organisation: 'Fintech Ltd', approvals: [{ reviewer: BOB, round: 1, at: NOW.toISOString(), comment: 'Contract <checked> & "signed"' }] },
      { round: 2 },
    );

    expect(mail.text).toContain(`${BOB} approved on 25 November 2026 at 10:00 UTC.`);
    expect(mail.text).toContain('Comment: “Contract <checked> & "signed"”');
    expect(mail.html).toContain(`${BOB} approved on 25 November 2026 at 10:00 UTC.`);
    expect(mail.html).toContain('Comment: “Contract &lt;checked&gt; &amp; &quot;signed&quot;”');
  });

  it('says there are no earlier approvals in the first round', () => {
    expect(email.text).toContain('None yet: This is approval 1 of 2.');
  });

  it('warns in both parts when the application name does not carry the verified organisation', () => {
    expect(email.text).toContain(
      'CHECK BEFORE APPROVING: The application calls itself "SME payments", which does not contain the name of the verified organisation, "Fintech Ltd".',
    );
    expect(email.html).toContain('<strong>Check before approving:</strong> The application calls itself &quot;SME payments&quot;');
  });

  it('gives no warning when the application name carries the verified organisation', () => {
    const mail = send({ organisation: 'Fintech Ltd.', clientName: 'FINTECH SME payments' });

    expect(mail.text).not.toContain('CHECK BEFORE APPROVING');
    expect(mail.html).not.toContain('Check before approving');
  });

  it('warns when no organisation is on record', () => {
    const mail = send({ organisation: undefined });

    expect(mail.text).toContain('Verified organisation: None on record');
    expect(mail.text).toContain('CHECK BEFORE APPROVING: The software statement (software id sme-payments) names no organisation');
  });

  it('describes client-secret controls and rotation for a consumer that uses a secret', () => {
    const mail = send({ authMethod: 'client_secret_basic', risk: 'low', requirements: defaultPolicy.document.risks.low });

    expect(mail.text).toContain('Client authentication: Client secret sent in the Authorization header (client_secret_basic).');
    expect(mail.text).toContain('Token binding: Bearer tokens (no sender constraint)');
    expect(mail.text).toContain('Access-token lifetime: 1 hour');
    expect(mail.text).toContain('Secret rotation: The client secret is rotated every 90 days; the old one keeps working 7 days more.');
  });

  it('shows a dash for a consumer without a software id', () => {
    expect(send({ softwareId: undefined }).text).toContain('Software id: —');
  });

  it('names the round it asks for', () => {
    const mail = send({}, { round: 2 });

    expect(mail.subject).toContain('approval 2 of 2');
    expect(mail.text).toContain('(approval 2 of 2)');
  });

  it('escapes markup in the consumer’s own fields in the HTML, and keeps the text as written', () => {
    const mail = send({
      clientName: '<script>alert("name")</script>',
      organisation: '<i>Org</i>',
      purpose: 'Reconcile "balances" & <img src=x onerror=alert(1)> every night',
      contacts: ['<b>ops</b>@fintech.example'],
    });

    expect(mail.html).not.toMatch(/<script|<img|<b>|<i>/i);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(mail.html).toContain('&lt;i&gt;Org&lt;/i&gt;');
    expect(mail.html).toContain('Reconcile &quot;balances&quot; &amp; &lt;img src=x onerror=alert(1)&gt; every night');
    expect(mail.html).toContain('&lt;b&gt;ops&lt;/b&gt;@fintech.example');
    expect(mail.text).toContain('<script>alert("name")</script>');
  });

  it('carries the reviewer’s link in both the text and the HTML', () => {
    expect(email.text.split('\n')).toContain(LINK);
    expect(email.html).toContain(`<a href="${LINK.replaceAll('&', '&amp;')}"><strong>Open the review</strong></a>`);
  });

  it('escapes a link that would break out of the href attribute', () => {
    const mail = reviewerEmail(pendingConsumer(), reviewFixture(), ALICE, `${ISSUER}/reviews/x?t="><script>`, defaultPolicy, NOW);

    expect(mail.html).toContain('href="https://gatehouse.test/reviews/x?t=&quot;&gt;&lt;script&gt;"');
    expect(mail.html).not.toContain('<script>');
  });
});

describe('outcomeEmail', () => {
  it.each<[ConsumerStatus, string, string]>([
    ['active', '[Gatehouse] Your request for SME payments was approved', 'was approved. The consumer is active until 25 December 2026'],
    ['denied', '[Gatehouse] Your request for SME payments is denied', 'was denied.'],
    ['expired', '[Gatehouse] Your request for SME payments is expired', 'expired: no decision was made within the review period'],
    ['failed', '[Gatehouse] Your request for SME payments is failed', 'could not be completed because of a technical problem'],
  ])('tells the contacts a %s outcome, with a link to the registration', (status, subject, sentence) => {
    const email = outcomeEmail(pendingConsumer({ status }), STATUS_URI)!;

    expect(email.to).toEqual([OPS, 'Dana.Reviewer@Bank.Example']);
    expect(email.subject).toBe(subject);
    expect(email.text).toContain(`Your API access request for SME payments (${CLIENT_ID}) ${sentence}`);
    expect(email.text).toContain(`Status: ${STATUS_URI}`);
    expect(email.html).toContain(sentence);
    expect(email.html).toContain(`Status: ${STATUS_URI}`);
  });

  it('gives the reviewer’s reason for a denial in the text and the HTML', () => {
    const email = outcomeEmail(pendingConsumer({ status: 'denied', outcomeReason: 'No contract on file for "this" <partner>' }), STATUS_URI)!;

    expect(email.text).toContain('Reason: No contract on file for "this" <partner>');
    expect(email.html).toContain('<p>Reason: No contract on file for &quot;this&quot; &lt;partner&gt;</p>');
  });

  it('gives the SLA as the reason for an expiry', () => {
    const email = outcomeEmail(pendingConsumer({ status: 'expired', outcomeReason: 'No decision was made within the review period.' }), STATUS_URI)!;

    expect(email.text).toContain('Reason: No decision was made within the review period.');
  });

  it('has no reason paragraph when there is no reason', () => {
    const email = outcomeEmail(pendingConsumer({ status: 'active' }), STATUS_URI)!;

    expect(email.text).not.toContain('Reason:');
    expect(email.html).not.toContain('Reason:');
  });

  it('leaves no empty reason line in the text when there is no reason', () => {
    const email = outcomeEmail(pendingConsumer({ status: 'active' }), STATUS_URI)!;

    expect(email.text).not.toContain('\n\n\n');
  });

  it('escapes markup in the consumer name in the HTML', () => {
    const email = outcomeEmail(pendingConsumer({ status: 'active', clientName: '<script>x</script>' }), STATUS_URI)!;

    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('<strong>&lt;script&gt;x&lt;/script&gt;</strong>');
  });

  it.each<ConsumerStatus>(['pending_review', 'suspended', 'revoked'])('sends nothing for a %s consumer', (status) => {
    expect(outcomeEmail(pendingConsumer({ status }), STATUS_URI)).toBeUndefined();
  });
});
