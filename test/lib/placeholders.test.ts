import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeholderFindings, placeholderMessage } from '../../lib/placeholders.js';
import { defaultConfig } from './stack-fixture.js';

describe('placeholderFindings', () => {
  let realJwks: { keys: Array<Record<string, unknown>> };

  beforeAll(async () => {
    realJwks = { keys: [{ ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'commercial-1' }] };
  });

  const real = () => ({
    ...defaultConfig(),
    reviewers: { default: ['risk@yourbank.co.uk', 'security@yourbank.co.uk'] },
    mailFrom: 'gatehouse@yourbank.co.uk',
    softwareStatementJwks: realJwks as never,
    alarmEmails: ['oncall@yourbank.co.uk'],
    tokenAudience: 'https://api.yourbank.co.uk',
  });

  it('names every placeholder of the default configuration', () => {
    const findings = placeholderFindings(defaultConfig());
    expect(findings.map((f) => f.split(':')[0])).toEqual(['reviewers', 'mailFrom', 'softwareStatementJwks', 'alarmEmails', 'tokenAudience']);
    expect(findings[0]).toContain('security-reviewers@bank.example');
  });

  it('finds nothing in a configuration with real values', () => {
    expect(placeholderFindings(real())).toEqual([]);
  });

  it.each([
    ['a reviewer at example.com', { reviewers: { default: ['risk@yourbank.co.uk'], high: ['cro@example.com'] } }, 'reviewers'],
    ['a sender at a .test domain', { mailFrom: 'gatehouse@mail.bank.test' }, 'mailFrom'],
    ['no alarm subscriber', { alarmEmails: [] }, 'alarmEmails'],
    [
      'the example JWKS beside a real key',
      { softwareStatementJwks: { keys: [...defaultConfig().softwareStatementJwks.keys] } as never },
      'softwareStatementJwks',
    ],
  ])('finds %s', (_what, change, key) => {
    expect(placeholderFindings({ ...real(), ...change }).map((f) => f.split(':')[0])).toEqual([key]);
  });

  it('says how to proceed on purpose', () => {
    expect(placeholderMessage('Gatehouse-prod', ['mailFrom: x'])).toMatch(/Gatehouse-prod still has placeholder settings[^]*- mailFrom: x[^]*-c demo=true/);
  });
});
