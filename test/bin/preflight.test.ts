import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { preflight, render, type PreflightInput } from '../../bin/preflight.js';

const ses = mockClient(SESv2Client);
const notFound = () => new NotFoundException({ message: 'Email identity not found', $metadata: {} });

const input = (overrides: Partial<PreflightInput> = {}): PreflightInput => ({
  ses: new SESv2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
  sesIdentity: 'yourbank.co.uk',
  mailFrom: 'gatehouse@yourbank.co.uk',
  reviewers: ['risk@yourbank.co.uk', 'ciso@yourbank.co.uk'],
  alarmEmails: ['oncall@yourbank.co.uk'],
  ...overrides,
});
const statusOf = (checks: Awaited<ReturnType<typeof preflight>>) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

describe('preflight', () => {
  afterEach(() => {
    ses.reset();
  });

  it('passes an account out of the sandbox with a verified identity, and only reads', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });

    const checks = await preflight(input());

    expect(statusOf(checks)).toEqual({ 'SES identity': 'ok', 'SES production access': 'ok', 'alarm subscription': 'warn', 'CDK bootstrap': 'skipped' });
    // Every call is a read (Get*), and reviewers are not looked up outside the sandbox.
    expect(ses.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual(['GetEmailIdentityCommand', 'GetAccountCommand', 'GetEmailIdentityCommand']);
  });

  it('in the sandbox, fails each reviewer address SES would refuse, with the command that verifies it', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'yourbank.co.uk' }).resolves({ VerifiedForSendingStatus: true });
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'risk@yourbank.co.uk' }).resolves({ VerifiedForSendingStatus: true });
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'ciso@yourbank.co.uk' }).rejects(notFound());
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false });

    const checks = await preflight(input());

    expect(statusOf(checks)).toMatchObject({
      'SES production access': 'warn',
      'reviewer risk@yourbank.co.uk': 'ok',
      'reviewer ciso@yourbank.co.uk': 'fail',
    });
    expect(checks.find((c) => c.name === 'reviewer ciso@yourbank.co.uk')!.detail).toContain(
      'aws sesv2 create-email-identity --email-identity ciso@yourbank.co.uk',
    );
  });

  it('fails a missing or unverified identity, a missing configuration set, and no alarm addresses', async () => {
    ses.on(GetEmailIdentityCommand).rejects(notFound());
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    ses.on(GetConfigurationSetCommand).rejects(new NotFoundException({ message: 'Configuration set not found', $metadata: {} }));

    const checks = await preflight(input({ configurationSet: 'gatehouse-mail', alarmEmails: [] }));

    expect(statusOf(checks)).toMatchObject({ 'SES identity': 'fail', 'SES configuration set': 'fail', 'alarm subscription': 'fail' });
    expect(render(checks)).toMatch(/^FAIL SES identity: yourbank\.co\.uk does not exist in this region/m);
  });

  it('fails an identity whose default configuration set the grants would not cover, naming the context value', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true, ConfigurationSetName: 'bank-default' });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });

    const checks = await preflight(input());

    expect(checks.find((c) => c.name === 'SES configuration set')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('-c sesConfigurationSet=bank-default'),
    });
  });
});
