import { GetAccountCommand, GetConfigurationSetCommand, GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootstrapRequirement, preflight, render, stackRequirements, type PreflightInput } from '../../bin/preflight.js';
import { cdkJsonContext } from '../lib/stack-fixture.js';

const ses = mockClient(SESv2Client);
const ssm = mockClient(SSMClient);
const lambda = mockClient(LambdaClient);
const clientConfig = { region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
const accessDenied = (message: string) => Object.assign(new Error(message), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
const notFound = () => new NotFoundException({ message: 'Email identity not found', $metadata: {} });

const input = (overrides: Partial<PreflightInput> = {}): PreflightInput => ({
  ses: new SESv2Client(clientConfig),
  ssm: new SSMClient(clientConfig),
  lambda: new LambdaClient(clientConfig),
  bootstrap: { parameterName: '/cdk-bootstrap/hnb659fds/version', minVersion: 6 },
  sesIdentity: 'yourbank.co.uk',
  mailFrom: 'gatehouse@yourbank.co.uk',
  reviewers: ['risk@yourbank.co.uk', 'ciso@yourbank.co.uk'],
  alarmEmails: ['oncall@yourbank.co.uk'],
  ...overrides,
});
const statusOf = (checks: Awaited<ReturnType<typeof preflight>>) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

const sesReady = () => {
  ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
  ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
};
const checkNamed = (checks: Awaited<ReturnType<typeof preflight>>, name: string) => checks.find((c) => c.name === name);

describe('preflight', () => {
  beforeEach(() => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
  });
  afterEach(() => {
    ses.reset();
    ssm.reset();
    lambda.reset();
  });

  it('passes an account out of the sandbox with a verified identity, and only reads', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });

    const checks = await preflight(input());

    expect(statusOf(checks)).toEqual({ 'SES identity': 'ok', 'SES production access': 'ok', 'alarm subscription': 'warn', 'CDK bootstrap': 'ok' });
    // Without reserved concurrency the Lambda quota does not matter, so it is not read.
    expect(lambda.calls()).toHaveLength(0);
    expect(ssm.commandCalls(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' })).toHaveLength(1);
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

  it('fails an account and region without the CDK bootstrap, with the bootstrap command', async () => {
    sesReady();
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));

    const checks = await preflight(input());

    expect(checkNamed(checks, 'CDK bootstrap')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('npx cdk bootstrap aws://<account>/eu-west-1'),
    });
  });

  it('fails a bootstrap older than the version the stack requires', async () => {
    sesReady();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '5' } });

    const checks = await preflight(input());

    expect(checkNamed(checks, 'CDK bootstrap')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/version 5 is older than the 6 this stack requires/),
    });
  });

  it('reports a missing permission as a failed check instead of crashing', async () => {
    sesReady();
    ssm.on(GetParameterCommand).rejects(accessDenied('not authorized to perform ssm:GetParameter'));
    lambda.on(GetAccountSettingsCommand).rejects(accessDenied('not authorized to perform lambda:GetAccountSettings'));

    const checks = await preflight(input({ reservedConcurrency: 273 }));

    expect(checkNamed(checks, 'CDK bootstrap')).toMatchObject({ status: 'fail', detail: expect.stringContaining('lack ssm:GetParameter') });
    expect(checkNamed(checks, 'Lambda concurrency quota')).toMatchObject({ status: 'fail', detail: expect.stringContaining('lack lambda:GetAccountSettings') });
  });

  it('passes reserved concurrency that leaves at least 100 executions unreserved', async () => {
    sesReady();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 373 } });

    const checks = await preflight(input({ reservedConcurrency: 273 }));

    expect(checkNamed(checks, 'Lambda concurrency quota')).toMatchObject({ status: 'ok', detail: expect.stringContaining('leaving 100') });
  });

  it("fails reserved concurrency a new account's quota cannot hold, naming the quota and both fixes", async () => {
    sesReady();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '30' } });
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 50, UnreservedConcurrentExecutions: 40 } });

    const checks = await preflight(input({ reservedConcurrency: 273 }));

    const check = checkNamed(checks, 'Lambda concurrency quota')!;
    expect(check.status).toBe('fail');
    // 10 held by other functions + 273 + the 100 Lambda keeps unreserved.
    expect(check.detail).toContain('"Concurrent executions" (L-B99A9384) to at least 383');
    expect(check.detail).toContain('-c reservedConcurrency=false');
  });
});

describe('bootstrapRequirement', () => {
  it('reads the parameter and the lowest accepted version from a synthesized template', () => {
    expect(
      bootstrapRequirement({
        Parameters: { BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/abc/version' } },
        Rules: {
          CheckBootstrapVersion: { Assertions: [{ Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '3', '4', '5'], { Ref: 'BootstrapVersion' }] }] } }] },
        },
      }),
    ).toEqual({ parameterName: '/cdk-bootstrap/abc/version', minVersion: 6 });
    expect(bootstrapRequirement({ Resources: {} })).toBeUndefined();
  });
});

describe('stackRequirements', () => {
  it('takes the bootstrap qualifier and the reserved concurrency from the stack the context synthesizes', () => {
    const requirements = stackRequirements({ ...cdkJsonContext(), reservedConcurrency: 'true', '@aws-cdk/core:bootstrapQualifier': 'bank42' });

    expect(requirements.bootstrap.parameterName).toBe('/cdk-bootstrap/bank42/version');
    expect(requirements.bootstrap.minVersion).toBeGreaterThanOrEqual(6);
    expect(requirements.reservedConcurrency).toBe(290);
  });
});
