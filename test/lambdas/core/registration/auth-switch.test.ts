import { describe, expect, it } from 'vitest';
import { authMethodRefusals, credentialSwitch, noticeAuthMethodChange, retireSecretSet } from '../../../../lambdas/core/registration/auth-switch.js';
import type { Email } from '../../../../lambdas/core/ports.js';
import { sha256B64u } from '../../../../lambdas/core/util/hash.js';
import { CLIENT_SECRET, consumerFixture, NOW } from '../../fixtures.js';
import { buildServices } from '../../handlers/fixtures.js';
import { policyWith } from '../policy/fixtures.js';

describe('credentialSwitch', () => {
  it.each([
    ['client_secret_basic', 'client_secret_basic', 'none'],
    ['client_secret_basic', 'client_secret_post', 'secret_method'],
    ['client_secret_post', 'client_secret_basic', 'secret_method'],
    ['client_secret_basic', 'private_key_jwt', 'to_key'],
    ['client_secret_post', 'private_key_jwt', 'to_key'],
    ['private_key_jwt', 'client_secret_post', 'to_secret'],
    ['private_key_jwt', 'private_key_jwt', 'none'],
  ] as const)('calls %s → %s a %s change', (from, to, expected) => {
    expect(credentialSwitch(from, to)).toBe(expected);
  });
});

describe('authMethodRefusals', () => {
  const reason = (code: string) => ({ code, message: code }) as never;

  it('keeps only the reasons about the authentication method of a denial', () => {
    const reasons = [reason('expiry_exceeds_maximum'), reason('auth_method_too_weak'), reason('auth_method_not_allowed_for_tier')];
    expect(authMethodRefusals({ outcome: 'deny', reasons }).map((r) => r.code)).toEqual(['auth_method_too_weak', 'auth_method_not_allowed_for_tier']);
  });

  it('finds none in a decision that is not a denial', () => {
    expect(authMethodRefusals({ outcome: 'review', reasons: [reason('risk_requires_review')] })).toEqual([]);
  });
});

describe('retireSecretSet', () => {
  it("keeps the current secret as the previous one for the deployed policy's grace of the consumer's risk", () => {
    const policy = policyWith((doc) => void (doc.risks.low.secretGraceDays = 3));

    const set = retireSecretSet(consumerFixture(), policy, NOW);

    expect(set).toMatchObject({
      secretHash: undefined,
      secretExpiresAt: undefined,
      pendingSecretHash: undefined,
      previousSecretHash: sha256B64u(CLIENT_SECRET),
    });
    expect(set.previousSecretExpiresAt).toBe(new Date(NOW.getTime() + 3 * 86_400_000).toISOString());
  });

  it('replaces a secret still in a rotation grace window: only the current secret stays accepted', () => {
    const consumer = consumerFixture({ previousSecretHash: sha256B64u('older'), previousSecretExpiresAt: new Date(NOW.getTime() + 86_400_000).toISOString() });

    expect(
      retireSecretSet(
        consumer,
        policyWith(() => undefined),
        NOW,
      ).previousSecretHash,
    ).toBe(sha256B64u(CLIENT_SECRET));
  });
});

describe('noticeAuthMethodChange', () => {
  it('tells the contacts the old and new method and until when the old credential works, never a secret', async () => {
    const sent: Email[] = [];
    const services = { ...buildServices({ jwks: { keys: [] } }), mailer: { send: async (e: Email) => void sent.push(e) } };

    await noticeAuthMethodChange(services, consumerFixture(), 'client_secret_basic', 'private_key_jwt', '2026-12-13T00:00:00.000Z');

    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toEqual(['api-owner@partner.example']);
    expect(sent[0]!.subject).toContain('Client authentication changed');
    expect(sent[0]!.text).toContain('from client_secret_basic to private_key_jwt');
    expect(sent[0]!.text).toContain('The previous client secret keeps working until 2026-12-13T00:00:00.000Z');
  });
});
