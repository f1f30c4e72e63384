import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../lambdas/core/policy/errors.js';
import { AppConfigError, EXAMPLE_SOFTWARE_STATEMENT_JWKS, loadAppConfig, loadJwksFile, PLACEHOLDER_REVIEWERS } from '../../lib/app-config.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { cdkJsonContext } from './stack-fixture.js';

const run = promisify(execFile);
let dir: string;

const validPolicy = () => JSON.parse(readFileSync(join(PROJECT_ROOT, 'policy/policy.json'), 'utf8')) as Record<string, unknown>;
const context = (values: Record<string, unknown>) => (key: string) => values[key];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-app-config-'));
  writeFileSync(join(dir, 'broken-policy.json'), JSON.stringify({ ...validPolicy(), risks: { low: {} } }));
  writeFileSync(join(dir, 'not-json.json'), '{ "id": ');
  const jwks = JSON.parse(readFileSync(join(PROJECT_ROOT, EXAMPLE_SOFTWARE_STATEMENT_JWKS), 'utf8')) as { keys: Array<Record<string, unknown>> };
  writeFileSync(join(dir, 'private.jwks.json'), JSON.stringify({ keys: [{ ...jwks.keys[0], d: 'secret-scalar' }] }));
  writeFileSync(join(dir, 'reviewers.json'), JSON.stringify({ default: ['ops@bank.example'], high: ['cro@bank.example', 'ciso@bank.example'] }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadAppConfig', () => {
  it('uses the committed policy, the example JWKS and documented defaults when no context is given', () => {
    const config = loadAppConfig(context({}), PROJECT_ROOT);
    expect(config.policy.id).toBe(validPolicy().id);
    expect(config.policy.version).toMatch(/^[a-z0-9-]+@[0-9a-f]{16}$/);
    expect(config).toMatchObject({
      tokenAudience: 'https://api.bank.example',
      softwareStatementIssuer: 'bank-commercial',
      issuer: undefined,
      consumerCacheMs: 5000,
      apiThrottlingRateLimit: 50,
      apiThrottlingBurstLimit: 100,
      logRetention: RetentionDays.ONE_YEAR,
      reviewers: PLACEHOLDER_REVIEWERS,
      mailFrom: 'gatehouse@bank.example',
      sesIdentity: 'bank.example',
      createSesIdentity: false,
      signingKeyRotation: Duration.days(30),
      signingKeyPublishDelay: Duration.seconds(900),
      sweepInterval: Duration.minutes(60),
      reservedConcurrency: false,
      tokenReservedConcurrency: 100,
      apiRouteThrottling: {},
      apiMaxBodyKiB: 64,
      apiRequestsPerIpPer5Minutes: 3000,
      apiRouteRequestsPerIpPer5Minutes: { oauth2: 300_000, register: 100, reviews: 300 },
      alarmEmails: undefined,
      registryBackup: true,
      apiCloudWatchRole: true,
    });
    expect(config.softwareStatementJwks.keys).toHaveLength(1);
  });

  it('reads route throttling overrides from the command line (by selector or operationId), and the hardening settings', () => {
    const config = loadAppConfig(
      context({
        apiRouteThrottling: '{"POST /oauth2/token":{"rateLimit":400,"burstLimit":800},"introspectToken":{"rateLimit":200,"burstLimit":400}}',
        apiMaxBodyKiB: '32',
        apiRequestsPerIpPer5Minutes: '1000',
        apiRouteRequestsPerIpPer5Minutes: '{"register":50}',
        reservedConcurrency: 'true',
        tokenReservedConcurrency: '250',
        alarmEmails: 'oncall@bank.example,risk@bank.example',
        registryBackup: 'false',
      }),
      PROJECT_ROOT,
    );
    expect(config.apiRouteThrottling).toEqual({
      'POST /oauth2/token': { rateLimit: 400, burstLimit: 800 },
      introspectToken: { rateLimit: 200, burstLimit: 400 },
    });
    expect(config).toMatchObject({
      apiMaxBodyKiB: 32,
      apiRequestsPerIpPer5Minutes: 1000,
      apiRouteRequestsPerIpPer5Minutes: { oauth2: 300_000, register: 50, reviews: 300 },
      reservedConcurrency: true,
      tokenReservedConcurrency: 250,
      alarmEmails: ['oncall@bank.example', 'risk@bank.example'],
      registryBackup: false,
    });
  });

  it.each([
    [
      'a route selector that matches no route',
      { apiRouteThrottling: { 'POST /oauth2/tokens': { rateLimit: 1, burstLimit: 1 } } },
      /apiRouteThrottling context value is invalid:\n {2}- API throttling: "POST \/oauth2\/tokens" matches no route/,
    ],
    ['route limits without a burst', { apiRouteThrottling: { '/admin/*': { rateLimit: 1 } } }, /apiRouteThrottling\.\/admin\/\*\.burstLimit/],
    ['a body limit WAF cannot inspect', { apiMaxBodyKiB: '20' }, /apiMaxBodyKiB: must be one of 16, 32, 48, 64/],
    ['a per-IP rate under 10', { apiRequestsPerIpPer5Minutes: '5' }, /apiRequestsPerIpPer5Minutes: /],
    ['a route rate for an unknown route', { apiRouteRequestsPerIpPer5Minutes: { token: 1000 } }, /apiRouteRequestsPerIpPer5Minutes: /],
    ['no reserved concurrency for the token function', { tokenReservedConcurrency: '0' }, /tokenReservedConcurrency: /],
    ['an alarm address that is not one', { alarmEmails: 'oncall' }, /alarmEmails\.0: /],
    [
      'a registration throttle one IP could exhaust within its WAF allowance',
      { apiRouteThrottling: { 'POST /register': { rateLimit: 2, burstLimit: 5 } } },
      /one caller exhaust an anonymous route:\n {2}- POST \/register \(rate 2\/s, burst 5\) is below one IP's WAF allowance for register \(100 requests in 5 minutes\)/,
    ],
    [
      'a per-IP review allowance above what the review routes admit for everyone',
      { apiRouteRequestsPerIpPer5Minutes: { reviews: 5000 } },
      /GET \/reviews\/\{review_id\} .* below one IP's WAF allowance for reviews \(5000 requests in 5 minutes\)/,
    ],
  ])('refuses %s', (_what, values, message) => {
    expect(() => loadAppConfig(context(values), PROJECT_ROOT)).toThrow(message);
  });

  it('reads the same configuration from cdk.json as its documented defaults', () => {
    expect(loadAppConfig(context(cdkJsonContext()), PROJECT_ROOT)).toEqual(loadAppConfig(context({}), PROJECT_ROOT));
  });

  it('accepts reviewers, sender and SES identity from the command line', () => {
    const config = loadAppConfig(
      context({
        reviewers: '{"default":["ops@bank.example","risk@bank.example"],"high":["cro@bank.example","ciso@bank.example"]}',
        mailFrom: 'onboarding@api.bank.example',
        sesIdentity: 'bank.example',
        createSesIdentity: 'true',
      }),
      PROJECT_ROOT,
    );
    expect(config).toMatchObject({
      reviewers: { default: ['ops@bank.example', 'risk@bank.example'], high: ['cro@bank.example', 'ciso@bank.example'] },
      mailFrom: 'onboarding@api.bank.example',
      sesIdentity: 'bank.example',
      createSesIdentity: true,
    });
    expect(loadAppConfig(context({ mailFrom: 'onboarding@api.bank.example' }), PROJECT_ROOT).sesIdentity).toBe('api.bank.example');
    expect(loadAppConfig(context({ mailFrom: 'x@bank.example', sesIdentity: 'x@bank.example', createSesIdentity: 'false' }), PROJECT_ROOT)).toMatchObject({
      sesIdentity: 'x@bank.example',
      createSesIdentity: false,
    });
  });

  it('reads reviewers from a JSON file, relative to the app directory', () => {
    const elsewhere = { policyFile: join(PROJECT_ROOT, 'policy/policy.json'), softwareStatementJwks: join(PROJECT_ROOT, EXAMPLE_SOFTWARE_STATEMENT_JWKS) };
    expect(loadAppConfig(context({ ...elsewhere, reviewers: 'reviewers.json' }), dir).reviewers).toEqual({
      default: ['ops@bank.example'],
      high: ['cro@bank.example', 'ciso@bank.example'],
    });
  });

  it.each([
    ['is not JSON', '{"default": ["a@bank.example",', /The reviewers context value is not valid JSON/],
    ['names a missing file', 'no-such-reviewers.json', /Cannot read the reviewers file .*no-such-reviewers\.json/],
    ['is not an object', 42, /- reviewers: must be a JSON object of reviewer groups, or a path to a JSON file holding one/],
    ['lists something that is not an address', { default: ['a@bank.example', 'not-an-address'] }, /- reviewers\.default\.1: Invalid email address/],
    ['has an unknown group', { default: ['a@bank.example', 'b@bank.example'], hihg: ['c@bank.example'] }, /- reviewers: Unrecognized key: "hihg"/],
    ['has no default group', { high: ['a@bank.example', 'b@bank.example'] }, /- reviewers\.default: /],
    ['has an empty group', { default: ['a@bank.example', 'b@bank.example'], medium: [] }, /- reviewers\.medium: must list at least one address/],
    [
      'has fewer distinct reviewers than high risk needs approvals',
      { default: ['a@bank.example', 'A@Bank.example'] },
      /does not satisfy the policy .*\n {2}- reviewers\.default: high risk needs 2 approvals from distinct reviewers, but the group lists 1 distinct address/,
    ],
  ])('rejects a reviewers value that %s', (_what, reviewers, message) => {
    const load = () => loadAppConfig(context({ reviewers }), PROJECT_ROOT);
    expect(load).toThrow(AppConfigError);
    expect(load).toThrow(message);
  });

  it('rejects a sender with a display name, a flag that is not a boolean, and an SES identity that cannot send as the sender', () => {
    const load = (values: Record<string, unknown>) => () => loadAppConfig(context(values), PROJECT_ROOT);
    expect(load({ mailFrom: 'Gatehouse <gatehouse@bank.example>', createSesIdentity: 'yes' })).toThrow(
      /- mailFrom: must be a plain email address \(no display name\)\n {2}- createSesIdentity: must be true or false/,
    );
    expect(load({ mailFrom: 'gatehouse@bank.example', sesIdentity: 'other.example' })).toThrow(
      /- sesIdentity: other\.example cannot send as mailFrom gatehouse@bank\.example/,
    );
    expect(load({ sesIdentity: 'someone@bank.example' })).toThrow(/- sesIdentity: someone@bank\.example cannot send as mailFrom/);
    expect(load({ sesIdentity: 'not a domain' })).toThrow(/- sesIdentity: must be a verified SES identity: an email address or a domain name/);
  });

  it('accepts command-line context, where every value is a string', () => {
    const config = loadAppConfig(
      context({
        consumerCacheMs: '1000',
        apiThrottleRateLimit: '20',
        apiThrottleBurstLimit: '40',
        logRetentionDays: '90',
        issuer: 'https://auth.bank.example',
        tokenAudience: 'https://payments.bank.example',
      }),
      PROJECT_ROOT,
    );
    expect(config).toMatchObject({
      consumerCacheMs: 1000,
      apiThrottlingRateLimit: 20,
      apiThrottlingBurstLimit: 40,
      logRetention: RetentionDays.THREE_MONTHS,
      issuer: 'https://auth.bank.example',
      tokenAudience: 'https://payments.bank.example',
    });
  });

  it('reads the signing-key rotation period and publish delay, from cdk.json numbers or command-line strings', () => {
    expect(loadAppConfig(context({ signingKeyRotationDays: 7, signingKeyPublishDelaySeconds: 0 }), PROJECT_ROOT)).toMatchObject({
      signingKeyRotation: Duration.days(7),
      signingKeyPublishDelay: Duration.seconds(0),
    });
    const config = loadAppConfig(context({ signingKeyRotationDays: '365', signingKeyPublishDelaySeconds: '86400' }), PROJECT_ROOT);
    expect(config.signingKeyRotation?.toDays()).toBe(365);
    expect(config.signingKeyPublishDelay?.toSeconds()).toBe(86_400);
    // One day is enough when the publish delay and the default policy's overlap (1 h + 5 min) fit in it.
    expect(loadAppConfig(context({ signingKeyRotationDays: '1', signingKeyPublishDelaySeconds: '82499' }), PROJECT_ROOT).signingKeyRotation?.toDays()).toBe(1);
    expect(loadAppConfig(context({ signingKeyRotationDays: '', signingKeyPublishDelaySeconds: '' }), PROJECT_ROOT)).toMatchObject({
      signingKeyRotation: Duration.days(30),
      signingKeyPublishDelay: Duration.seconds(900),
    });
  });

  it('reads the sweep interval in minutes, from cdk.json numbers or command-line strings, 5 to 1440', () => {
    expect(loadAppConfig(context({ sweepIntervalMinutes: 5 }), PROJECT_ROOT).sweepInterval?.toMinutes()).toBe(5);
    expect(loadAppConfig(context({ sweepIntervalMinutes: '1440' }), PROJECT_ROOT).sweepInterval?.toMinutes()).toBe(1440);
    expect(loadAppConfig(context({ sweepIntervalMinutes: '' }), PROJECT_ROOT).sweepInterval?.toMinutes()).toBe(60);
  });

  it.each([
    ['a rotation period of 0 days', { signingKeyRotationDays: '0' }, /- signingKeyRotationDays: /],
    ['a rotation period over a year', { signingKeyRotationDays: 366 }, /- signingKeyRotationDays: /],
    ['a fractional rotation period', { signingKeyRotationDays: '1.5' }, /- signingKeyRotationDays: /],
    ['a rotation period that is not a number', { signingKeyRotationDays: 'monthly' }, /- signingKeyRotationDays: must be a whole number of days from 1 to 365/],
    ['a negative publish delay', { signingKeyPublishDelaySeconds: '-1' }, /- signingKeyPublishDelaySeconds: /],
    ['a publish delay over a day', { signingKeyPublishDelaySeconds: 86_401 }, /- signingKeyPublishDelaySeconds: /],
    [
      'a publish delay that is not a number',
      { signingKeyPublishDelaySeconds: 'soon' },
      /- signingKeyPublishDelaySeconds: must be a whole number of seconds from 0 to 86400/,
    ],
    ['a sweep interval under 5 minutes', { sweepIntervalMinutes: '4' }, /- sweepIntervalMinutes: must be a whole number of minutes from 5 to 1440/],
    ['a sweep interval over a day', { sweepIntervalMinutes: 1441 }, /- sweepIntervalMinutes: must be a whole number of minutes from 5 to 1440/],
    ['a fractional sweep interval', { sweepIntervalMinutes: '7.5' }, /- sweepIntervalMinutes: must be a whole number of minutes from 5 to 1440/],
    ['a sweep interval that is not a number', { sweepIntervalMinutes: 'hourly' }, /- sweepIntervalMinutes: must be a whole number of minutes from 5 to 1440/],
    [
      'a rotation period no longer than the publish delay plus the previous-key overlap',
      { signingKeyRotationDays: '1', signingKeyPublishDelaySeconds: '82500' },
      /do not fit the policy .*\n {2}- signingKeyRotationDays: 1 day \(86400 s\) must exceed signingKeyPublishDelaySeconds \(82500 s\) plus the previous-key overlap \(3900 s: /,
    ],
  ])('rejects %s', (_what, values, message) => {
    const load = () => loadAppConfig(context(values), PROJECT_ROOT);
    expect(load).toThrow(AppConfigError);
    expect(load).toThrow(message);
  });

  it('fails with a PolicyError listing the issues when the policy is invalid', () => {
    const load = () => loadAppConfig(context({ policyFile: join(dir, 'broken-policy.json') }), PROJECT_ROOT);
    expect(load).toThrow(PolicyError);
    expect(load).toThrow(/The Gatehouse policy document is invalid:\n {2}- risks\.low\./);
    try {
      load();
    } catch (error) {
      expect((error as PolicyError).code).toBe('policy_invalid');
    }
  });

  it('fails with a PolicyError naming the file when the policy is missing or not JSON', () => {
    expect(() => loadAppConfig(context({ policyFile: join(dir, 'missing.json') }), PROJECT_ROOT)).toThrow(
      /Cannot read the policy file .*missing\.json \(no such file\)/,
    );
    expect(() => loadAppConfig(context({ policyFile: join(dir, 'not-json.json') }), PROJECT_ROOT)).toThrow(/is not valid JSON/);
  });

  it('rejects invalid context values with every issue named', () => {
    const load = () => loadAppConfig(context({ consumerCacheMs: 'soon', issuer: 'http://auth.bank.example/', logRetentionDays: '42' }), PROJECT_ROOT);
    expect(load).toThrow(AppConfigError);
    expect(load).toThrow(/- consumerCacheMs: /);
    expect(load).toThrow(/- issuer: must be an https URL/);
    expect(load).toThrow(/- issuer: must not end with a slash/);
    expect(load).toThrow(/- logRetentionDays: must be one of 1, 3, 5/);
  });

  it('publishes no service documentation unless told, and an https URL when told', () => {
    expect(loadAppConfig(context({}), PROJECT_ROOT)).not.toHaveProperty('serviceDocumentation');
    expect(loadAppConfig(context({ serviceDocumentation: 'https://developer.bank.example/gatehouse' }), PROJECT_ROOT)).toMatchObject({
      serviceDocumentation: 'https://developer.bank.example/gatehouse',
    });
    expect(() => loadAppConfig(context({ serviceDocumentation: 'http://developer.bank.example' }), PROJECT_ROOT)).toThrow(
      /- serviceDocumentation: must be an https URL/,
    );
  });

  it('treats an empty command-line value as not given', () => {
    expect(loadAppConfig(context({ issuer: '', consumerCacheMs: '' }), PROJECT_ROOT)).toMatchObject({ issuer: undefined, consumerCacheMs: 5000 });
  });
});

describe('loadJwksFile', () => {
  it('reads the committed example, which holds one public EC P-256 signing key', () => {
    const jwks = loadJwksFile(join(PROJECT_ROOT, EXAMPLE_SOFTWARE_STATEMENT_JWKS));
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) })]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('refuses a JWKS that contains a private key', () => {
    expect(() => loadJwksFile(join(dir, 'private.jwks.json'))).toThrow(/private key; the JWKS must contain public keys only/);
  });

  it("refuses a JWKS too large for the functions' environment", () => {
    const jwks = JSON.parse(readFileSync(join(PROJECT_ROOT, EXAMPLE_SOFTWARE_STATEMENT_JWKS), 'utf8')) as { keys: unknown[] };
    writeFileSync(join(dir, 'large.jwks.json'), JSON.stringify({ keys: Array.from({ length: 20 }, () => jwks.keys[0]) }));
    expect(() => loadJwksFile(join(dir, 'large.jwks.json'))).toThrow(/keep it under 2048 bytes/);
  });

  it('names the file it cannot read', () => {
    expect(() => loadJwksFile(join(dir, 'nope.json'))).toThrow(AppConfigError);
    expect(() => loadJwksFile(join(dir, 'nope.json'))).toThrow(/nope\.json/);
  });
});

describe('gatehouse app (bin/gatehouse.ts)', () => {
  /**
   * Runs the app the way the CDK CLI does: context in CDK_CONTEXT_JSON, output directory in CDK_OUTDIR. CDK's built-in
   * CloudFormation validation is left out (CDK_VALIDATION=false): it only prints warnings, costs about 9 s of CPU per
   * process, and CI lints the same synthesized template with AWS's cfn-lint (`npm run lint:cfn`).
   */
  const runApp = (ctx: Record<string, unknown>, outdir: string) =>
    run(process.execPath, ['--import', 'tsx', 'bin/gatehouse.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify(ctx),
        CDK_OUTDIR: outdir,
        CDK_VALIDATION: 'false',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      },
    });

  it('exits non-zero with the policy error when the policy file is broken', async () => {
    const outdir = join(dir, 'out-broken');
    const failure = await runApp({ policyFile: join(dir, 'broken-policy.json') }, outdir).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('gatehouse: cannot synthesize (PolicyError policy_invalid)');
    expect(failure?.stderr).toMatch(/The Gatehouse policy document is invalid:\n {2}- risks\.low\./);
    expect(existsSync(join(outdir, 'Gatehouse.template.json'))).toBe(false);
  });

  it('exits non-zero naming the problem when the reviewers value is malformed', async () => {
    const outdir = join(dir, 'out-reviewers');
    const failure = await runApp({ skipBundling: 'true', reviewers: '{"default": ["security@bank.example"], "high": "cro@bank.example"}' }, outdir).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('gatehouse: cannot synthesize (AppConfigError)');
    expect(failure?.stderr).toMatch(/The reviewers context value is invalid:\n {2}- reviewers\.high: /);
    expect(existsSync(join(outdir, 'Gatehouse.template.json'))).toBe(false);
  });

  it('refuses to synthesize with placeholder settings unless demo=true, naming each with its fix', async () => {
    const outdir = join(dir, 'out-placeholders');
    const failure = await runApp({ skipBundling: 'true', stage: 'prod' }, outdir).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('gatehouse: cannot synthesize (placeholders)');
    expect(failure?.stderr).toContain('Gatehouse-prod still has placeholder settings that deploy but reach nobody:');
    for (const key of ['reviewers', 'mailFrom', 'softwareStatementJwks', 'alarmEmails', 'tokenAudience']) expect(failure?.stderr).toContain(`  - ${key}: `);
    expect(failure?.stderr).toContain('-c demo=true');
    expect(existsSync(join(outdir, 'Gatehouse-prod.template.json'))).toBe(false);
  });

  it('synthesizes the Gatehouse stack, all three cdk-nag packs included, without credentials when bundling is skipped', async () => {
    const outdir = join(dir, 'out-ok');
    const { stderr } = await runApp({ skipBundling: 'true', demo: 'true' }, outdir);
    expect(stderr).toContain('skipBundling=true');
    expect(stderr).toContain('gatehouse: demo=true, deploying with placeholders:');
    const template = JSON.parse(readFileSync(join(outdir, 'Gatehouse.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').length).toBeGreaterThan(0);
  });
});
