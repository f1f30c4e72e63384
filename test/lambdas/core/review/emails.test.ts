import { describe, expect, it } from 'vitest';
import type { ConsumerStatus } from '../../../../lambdas/core/consumer/consumer.js';
import { outcomeEmail, reviewerEmail } from '../../../../lambdas/core/review/emails.js';
import { CLIENT_ID, defaultPolicy } from '../../fixtures.js';
import { ISSUER } from '../../handlers/fixtures.js';
import { ALICE, DEADLINE, OPS, pendingConsumer, REVIEW_ID, reviewFixture } from './fixtures.js';

const LINK = `${ISSUER}/reviews/${REVIEW_ID}?t=eyJhbGciOiJFUzI1NiJ9.payload.sig&x=1`;
const STATUS_URI = `${ISSUER}/register/${CLIENT_ID}`;

describe('reviewerEmail', () => {
  const consumer = pendingConsumer({ approvals: [] });
  const email = reviewerEmail(consumer, reviewFixture(), ALICE, LINK, defaultPolicy);

  it('goes to the one reviewer it is for, naming the consumer, tier, risk and round in the subject', () => {
    expect(email.to).toEqual([ALICE]);
    expect(email.subject).toBe('[Gatehouse] Review needed: SME payments (partner, high risk) — approval 1 of 2');
  });

  it.each([
    ['consumer name and id', `SME payments (${CLIENT_ID})`],
    ['tier', 'Tier: partner'],
    ['risk', 'Risk: high'],
    ['scopes with their risk', 'payments:initiate (high risk)'],
    ['purpose', 'Initiate supplier payments on behalf of SME customers'],
    ['data classes', 'Data classes: payment'],
    ['requested expiry', consumer.expiresAt],
    ['contacts', `${OPS}, Dana.Reviewer@Bank.Example`],
    ['software id', 'Software id: sme-payments'],
    ['policy version', `Policy: ${defaultPolicy.version}`],
    ['why it needs review', 'payment_initiation_requires_review: Payment initiation needs two reviewers.'],
    ['deadline', DEADLINE.toISOString()],
  ])('shows the %s in the text', (_field, value) => {
    expect(email.text).toContain(value);
  });

  it.each([
    ['consumer name and id', `SME payments (${CLIENT_ID})`],
    ['tier', '<th>Tier</th><td>partner</td>'],
    ['risk', '<th>Risk</th><td>high</td>'],
    ['scopes with their risk', 'payments:initiate (high risk)'],
    ['purpose', 'Initiate supplier payments on behalf of SME customers'],
    ['data classes', '<th>Data classes</th><td>payment</td>'],
    ['requested expiry', consumer.expiresAt],
    ['software id', '<th>Software id</th><td>sme-payments</td>'],
    ['policy version', `<th>Policy</th><td>${defaultPolicy.version}</td>`],
    ['why it needs review', 'payment_initiation_requires_review: Payment initiation needs two reviewers.'],
    ['deadline', DEADLINE.toISOString()],
  ])('shows the %s in the HTML', (_field, value) => {
    expect(email.html).toContain(value);
  });

  it('carries the reviewer’s link in both the text and the HTML', () => {
    expect(email.text.split('\n')).toContain(LINK);
    expect(email.html).toContain(`<a href="${LINK.replaceAll('&', '&amp;')}">Open the review</a>`);
  });

  it('shows a dash for a consumer without a software id', () => {
    const mail = reviewerEmail(pendingConsumer({ softwareId: undefined }), reviewFixture(), ALICE, LINK, defaultPolicy);

    expect(mail.text).toContain('Software id: —');
  });

  it('names the round it asks for', () => {
    const mail = reviewerEmail(pendingConsumer(), reviewFixture({ round: 2 }), ALICE, LINK, defaultPolicy);

    expect(mail.subject).toContain('approval 2 of 2');
    expect(mail.text).toContain('(approval 2 of 2)');
  });

  it('escapes markup in the consumer’s own fields in the HTML, and keeps the text as written', () => {
    const hostile = pendingConsumer({
      clientName: '<script>alert("name")</script>',
      purpose: 'Reconcile "balances" & <img src=x onerror=alert(1)> every night',
      contacts: ['<b>ops</b>@fintech.example'],
    });

    const mail = reviewerEmail(hostile, reviewFixture(), ALICE, LINK, defaultPolicy);

    expect(mail.html).not.toMatch(/<script|<img|<b>/i);
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(mail.html).toContain('Reconcile &quot;balances&quot; &amp; &lt;img src=x onerror=alert(1)&gt; every night');
    expect(mail.html).toContain('&lt;b&gt;ops&lt;/b&gt;@fintech.example');
    expect(mail.text).toContain('<script>alert("name")</script>');
  });

  it('escapes a link that would break out of the href attribute', () => {
    const mail = reviewerEmail(pendingConsumer(), reviewFixture(), ALICE, `${ISSUER}/reviews/x?t="><script>`, defaultPolicy);

    expect(mail.html).toContain('href="https://gatehouse.test/reviews/x?t=&quot;&gt;&lt;script&gt;"');
    expect(mail.html).not.toContain('<script>');
  });
});

describe('outcomeEmail', () => {
  it.each<[ConsumerStatus, string, string]>([
    ['active', '[Gatehouse] Your request for SME payments was approved', 'was approved. The consumer is active'],
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
