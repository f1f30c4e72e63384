import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import type { RecertificationOutcome } from '../../../../lambdas/core/metrics.js';
import { attest, type AttestationChoice } from '../../../../lambdas/core/recertification/attest.js';
import { attestationLinkKeysFor, signAttestationLink } from '../../../../lambdas/core/recertification/link.js';
import type { SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, DAY_MS, defaultPolicy, NOW } from '../../fixtures.js';
import { buildServices, FakeTable, ISSUER } from '../../handlers/fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const OWNER = 'api-owner@partner.example';
const LINK_ID = 'link-0001';

let table: FakeTable;
let services: ReturnType<typeof buildServices>;
let keys: SigningKeyCache;

beforeEach(() => {
  table = new FakeTable(ddb);
  services = buildServices({ jwks: { keys: [] } });
  keys = attestationLinkKeysFor(services);
});

afterEach(() => {
  ddb.reset();
});

/** A consumer whose recertification fell due yesterday, with one link sent to its owner, holding two scopes. */
function seedDue(overrides: Partial<Consumer> = {}): void {
  const consumer = consumerFixture({
    scopes: ['reference-data:read', 'tokens:introspect'],
    recertification: {
      dueAt: new Date(NOW.getTime() - DAY_MS).toISOString(),
      links: [{ email: OWNER, linkId: LINK_ID }],
      linksSentAt: new Date(NOW.getTime() - DAY_MS).toISOString(),
    },
    ...overrides,
  });
  table.putConsumer(consumer);
  table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
}

async function answer(choice: AttestationChoice, linkId = LINK_ID) {
  const token = await signAttestationLink(keys, ISSUER, { clientId: CLIENT_ID, contact: OWNER, linkId }, new Date(NOW.getTime() + 13 * DAY_MS), NOW);
  return attest(services, keys, { clientId: CLIENT_ID, token, choice });
}

const outcomes = (outcome?: RecertificationOutcome) => services.metrics.total('RecertificationOutcomes', outcome ? { outcome } : {});

describe('attest metrics', () => {
  it('counts a confirmation that keeps every scope as confirmed', async () => {
    seedDue();

    expect((await answer({ action: 'confirm', dropScopes: [] })).outcome).toBe('confirmed');

    expect(outcomes('confirmed')).toBe(1);
    expect(outcomes()).toBe(1);
  });

  it('counts a confirmation that drops scopes as scopes_dropped', async () => {
    seedDue();

    expect((await answer({ action: 'confirm', dropScopes: ['tokens:introspect'] })).scopesRemoved).toEqual(['tokens:introspect']);

    expect(outcomes('scopes_dropped')).toBe(1);
    expect(outcomes()).toBe(1);
  });

  it('counts a high-risk attestation that bank reviewers must confirm as review', async () => {
    seedDue({ risk: 'high', requirements: defaultPolicy.document.risks.high });

    expect((await answer({ action: 'confirm', dropScopes: [] })).outcome).toBe('awaiting_confirmation');

    expect(outcomes('review')).toBe(1);
    expect(outcomes()).toBe(1);
  });

  it('counts a deregistration as deregistered', async () => {
    seedDue();

    expect((await answer({ action: 'deregister' })).outcome).toBe('deregistered');

    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'revoked' });
    expect(outcomes('deregistered')).toBe(1);
    expect(outcomes()).toBe(1);
  });

  it('counts nothing for a link that was not sent, an invalid choice, or a link used twice', async () => {
    seedDue();
    await expect(answer({ action: 'confirm', dropScopes: [] }, 'link-not-sent')).rejects.toMatchObject({ code: 'link_invalid' });
    await expect(answer({ action: 'confirm', dropScopes: ['reference-data:read', 'tokens:introspect'] })).rejects.toMatchObject({ code: 'invalid_choice' });
    expect(services.metrics.snapshot()).toEqual([]);

    await answer({ action: 'confirm', dropScopes: [] });
    await expect(answer({ action: 'confirm', dropScopes: [] })).rejects.toMatchObject({ code: 'already_attested' });

    expect(outcomes()).toBe(1);
  });
});
