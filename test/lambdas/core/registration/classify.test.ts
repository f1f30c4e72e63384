import { describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { classifyUpdate, type RegistrationDraft } from '../../../../lambdas/core/registration/classify.js';
import { consumerFixture } from '../../fixtures.js';

const DAY = 86_400_000;
const EC_A = { kty: 'EC', crv: 'P-256', x: 'ax', y: 'ay', kid: 'a' };
const EC_B = { kty: 'EC', crv: 'P-256', x: 'bx', y: 'by', kid: 'b' };

function draftOf(consumer: Consumer, overrides: Partial<RegistrationDraft> = {}): RegistrationDraft {
  return {
    clientName: consumer.clientName,
    scopes: consumer.scopes,
    purpose: consumer.purpose,
    dataClasses: consumer.dataClasses,
    contacts: consumer.contacts,
    expiresAt: consumer.expiresAt,
    authMethod: consumer.authMethod,
    jwks: consumer.jwks,
    softwareId: consumer.softwareId,
    dpopBoundAccessTokens: consumer.dpopBoundAccessTokens,
    ...overrides,
  };
}

const current = consumerFixture({ scopes: ['reference-data:read', 'accounts:read'], dataClasses: ['public', 'confidential'], jwks: { keys: [EC_A] } });
const later = (days: number) => new Date(Date.parse(current.expiresAt) + days * DAY).toISOString();

describe('classifyUpdate', () => {
  it('finds no change in the registration sent back as it is', () => {
    expect(classifyUpdate(current, draftOf(current))).toEqual([]);
  });

  it('applies at once what narrows access or changes only the record: fewer scopes or data classes, an earlier end, name, contacts, keys', () => {
    const changes = classifyUpdate(
      current,
      draftOf(current, {
        scopes: ['reference-data:read'],
        dataClasses: ['public'],
        expiresAt: later(-5),
        clientName: 'Renamed',
        contacts: ['someone-else@partner.example'],
        jwks: { keys: [EC_B] },
        authMethod: 'client_secret_post',
        dpopBoundAccessTokens: true,
      }),
    );
    expect(changes.map((c) => c.text)).toEqual([
      'remove scope accounts:read',
      'remove data class confidential',
      `end access earlier, at ${later(-5)}`,
      'authenticate with client_secret_post instead of client_secret_basic',
      'ask for DPoP-bound tokens',
      'rename to "Renamed"',
      'replace the contacts with someone-else@partner.example',
      'add key b',
      'remove key a',
    ]);
    expect(changes.some((c) => c.raises)).toBe(false);
  });

  it.each<[string, Partial<RegistrationDraft>, string]>([
    ['another scope', { scopes: ['reference-data:read', 'accounts:read', 'payments:initiate'] }, 'add scope payments:initiate'],
    ['another data class', { dataClasses: ['public', 'confidential', 'payment'] }, 'add data class payment'],
    ['a later end', { expiresAt: later(10) }, `extend access until ${later(10)}`],
    ['a new purpose', { purpose: 'Something else entirely, for other reasons' }, 'change the stated purpose'],
  ])('sends %s to the policy', (_what, overrides, text) => {
    expect(classifyUpdate(current, draftOf(current, overrides))).toEqual([{ text, raises: true }]);
  });

  it('sends a weaker client authentication and dropping DPoP binding to the policy', () => {
    const keyBound = consumerFixture({ authMethod: 'private_key_jwt', jwks: { keys: [EC_A] }, secretHash: undefined, dpopBoundAccessTokens: true });
    const changes = classifyUpdate(keyBound, draftOf(keyBound, { authMethod: 'client_secret_basic', dpopBoundAccessTokens: undefined }));
    expect(changes).toEqual([
      { text: 'authenticate with client_secret_basic instead of private_key_jwt', raises: true },
      { text: 'stop asking for DPoP-bound tokens', raises: true },
    ]);
  });

  it('tells keys apart by their key material, not their kid', () => {
    expect(classifyUpdate(current, draftOf(current, { jwks: { keys: [{ ...EC_A, kid: 'renamed' }] } }))).toEqual([]);
  });

  it('treats a reordered scope or contact list as no change', () => {
    const two = consumerFixture({ contacts: ['a@x.example', 'b@x.example'], scopes: ['reference-data:read', 'accounts:read'] });
    expect(classifyUpdate(two, draftOf(two, { contacts: ['b@x.example', 'a@x.example'], scopes: ['accounts:read', 'reference-data:read'] }))).toEqual([]);
  });
});
