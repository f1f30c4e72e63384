import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type App, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZER_ENV } from '../../lambdas/verifier/authorizer.js';
import { AUTHORIZER } from '../../lambdas/contracts/functions.js';
import { GatehouseAuthorizer, type GatehouseAuthorizerProps } from '../../lib/index.js';
import { defaultConfig, logicalId, arnOf, sortedActions, statementsOfRole, testApp } from './stack-fixture.js';

const run = promisify(execFile);

const ISSUER = 'https://gatehouse.bank.example/v1';
const AUDIENCE = 'https://api.bank.example';
const ROUTE_SCOPES = { 'GET /accounts/{id}': ['accounts:read'], 'POST /payments': ['payments:write', 'payments:initiate'] };

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

interface ResourceServer {
  readonly app: App;
  readonly stack: Stack;
  readonly api: apigateway.RestApi;
  readonly authz: GatehouseAuthorizer;
  readonly method: apigateway.Method;
}

/**
 * A resource server's stack as another team would write it: a REST API with logging and validation, and methods protected
 * by the Gatehouse authorizer in one line each.
 */
function resourceServer(
  props: Partial<GatehouseAuthorizerProps> = {},
  options: { bundle?: boolean; paths?: Array<['GET' | 'POST', string]> } = {},
): ResourceServer {
  const app = testApp(options.bundle ?? false);
  const stack = new Stack(app, 'ResourceServer');
  const accessLogs = new logs.LogGroup(stack, 'AccessLogs', { retention: logs.RetentionDays.ONE_YEAR });
  const api = new apigateway.RestApi(stack, 'Api', {
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'v1',
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      tracingEnabled: true,
    },
  });
  Validations.of(api).acknowledge({
    id: 'AwsSolutions-APIG3',
    reason: "Test fixture of a resource server: AWS WAF in front of its stage is that team's own choice and is not what this test is about.",
  });
  const authz = new GatehouseAuthorizer(stack, 'Authz', { issuer: ISSUER, audience: AUDIENCE, routeScopes: ROUTE_SCOPES, ...props });
  const integration = new apigateway.MockIntegration({
    integrationResponses: [{ statusCode: '200' }],
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
  });
  const requestValidator = api.addRequestValidator('Validator', { validateRequestParameters: true, validateRequestBody: true });
  const methods = (options.paths ?? [['GET', '/accounts/{id}']]).map(([verb, path]) =>
    api.root.resourceForPath(path).addMethod(verb, integration, {
      authorizer: authz.authorizer,
      requestValidator,
      methodResponses: [{ statusCode: '200' }],
    }),
  );
  return { app, stack, api, authz, method: methods[0]! };
}

/** Every acknowledgment (cdk-nag suppression) in a construct tree, with where it sits, its rule id and its reason. */
function acknowledgments(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^Annotation::/i, ''), reason })),
        ),
    );
}

describe('GatehouseAuthorizer', () => {
  let server: ResourceServer;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    server = resourceServer({ publicBaseUrl: 'https://api.bank.example/v1' });
    template = Template.fromStack(server.stack);
    resources = template.toJSON().Resources as Resources;
  });

  const fnProps = () => resources[logicalId(server.authz.function)]!.Properties;
  const env = () => (fnProps().Environment as { Variables: Record<string, unknown> }).Variables;

  it('is a REQUEST authorizer on the Authorization header whose results are never cached', () => {
    template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
      RestApiId: { Ref: logicalId(server.api) },
      AuthorizerUri: { 'Fn::Join': ['', Match.arrayWith([arnOf(server.authz.function), '/invocations'])] },
    });
  });

  it('protects the method it is given with a CUSTOM authorization', () => {
    expect(resources[logicalId(server.method)]!.Properties).toMatchObject({
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      AuthorizerId: { Ref: logicalId(server.authz.authorizer) },
    });
  });

  it('lets only API Gateway invoke the function, for this authorizer', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: arnOf(server.authz.function),
      SourceArn: {
        'Fn::Join': [
          '',
          Match.arrayWith([{ Ref: logicalId(server.api) }, Match.stringLikeRegexp('^/authorizers/$'), { Ref: logicalId(server.authz.authorizer) }]),
        ],
      },
    });
  });

  it('runs the authorizer entry on Node.js 24 arm64 with active tracing and the AUTHORIZER spec', () => {
    expect(fnProps()).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: AUTHORIZER.memorySize,
      Timeout: AUTHORIZER.timeoutSeconds,
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalId(server.authz.logGroup) } },
    });
  });

  it('configures issuer, audience, the default JWKS URI, the route scopes as JSON and the public base URL', () => {
    expect(env()).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'gatehouse-authorizer',
      [AUTHORIZER_ENV.issuer]: ISSUER,
      [AUTHORIZER_ENV.audience]: AUDIENCE,
      [AUTHORIZER_ENV.jwksUri]: `${ISSUER}/.well-known/jwks.json`,
      [AUTHORIZER_ENV.revocationsUri]: `${ISSUER}/oauth2/revocations`,
      [AUTHORIZER_ENV.publicBaseUrl]: 'https://api.bank.example/v1',
    });
    expect(env()).not.toHaveProperty(AUTHORIZER_ENV.revocationRefreshSeconds);
    expect(JSON.parse(env()[AUTHORIZER_ENV.routeScopes] as string)).toEqual(ROUTE_SCOPES);
  });

  it("carries none of the control plane's settings (table, signing key, state machine, policy)", () => {
    expect(
      Object.keys(env())
        .filter((k) => !k.startsWith('GATEHOUSE_AUTHZ_'))
        .sort(),
    ).toEqual(['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME']);
  });

  it('gives its role nothing but writing its own logs and X-Ray traces', () => {
    expect(sortedActions(statementsOfRole(template, logicalId(server.authz.function.role!)))).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(server.authz.logGroup) },
      { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' },
    ]);
  });

  it('logs to a log group kept a year and encrypted with its own rotating key', () => {
    const group = resources[logicalId(server.authz.logGroup)]!.Properties;
    expect(group).toMatchObject({ RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } });
    const keyId = (group.KmsKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
  });
});

describe('GatehouseAuthorizer settings', () => {
  const envOf = (server: ResourceServer) => {
    const fn = Template.fromStack(server.stack).toJSON().Resources[logicalId(server.authz.function)];
    return fn.Properties.Environment.Variables as Record<string, unknown>;
  };

  it('passes the revocation list URI, refresh interval and staleness limit given', () => {
    const env = envOf(
      resourceServer({
        revocationsUri: 'https://lists.bank.example/revocations',
        revocationRefresh: Duration.seconds(10),
        revocationMaxStale: Duration.minutes(2),
      }),
    );
    expect(env).toMatchObject({
      [AUTHORIZER_ENV.revocationsUri]: 'https://lists.bank.example/revocations',
      [AUTHORIZER_ENV.revocationRefreshSeconds]: '10',
      [AUTHORIZER_ENV.revocationMaxStaleSeconds]: '120',
    });
  });

  it('uses an explicit JWKS URI and leaves the public base URL unset by default', () => {
    const env = envOf(resourceServer({ jwksUri: 'https://keys.bank.example/jwks.json' }));
    expect(env[AUTHORIZER_ENV.jwksUri]).toBe('https://keys.bank.example/jwks.json');
    expect(env).not.toHaveProperty(AUTHORIZER_ENV.publicBaseUrl);
  });

  it("accepts an issuer known only at deploy time (another stack's output) and derives the JWKS URI from it", () => {
    const env = envOf(resourceServer({ issuer: Fn.importValue('Gatehouse-Issuer') }));
    expect(env[AUTHORIZER_ENV.issuer]).toEqual({ 'Fn::ImportValue': 'Gatehouse-Issuer' });
    expect(env[AUTHORIZER_ENV.jwksUri]).toEqual({ 'Fn::Join': ['', [{ 'Fn::ImportValue': 'Gatehouse-Issuer' }, '/.well-known/jwks.json']] });
  });

  it('refuses route scopes that are not "METHOD /resource/path" → scope tokens, or none at all', () => {
    expect(() => resourceServer({ routeScopes: { '/accounts/{id}': ['accounts:read'] } })).toThrow(
      /routeScopes is invalid:\n {2}- \/accounts\/\{id\}: must be "METHOD \/resource\/path"/,
    );
    expect(() => resourceServer({ routeScopes: { 'GET /accounts/{id}': ['accounts read'] } })).toThrow(/must be an RFC 6749 scope token/);
    expect(() => resourceServer({ routeScopes: {} })).toThrow(/routeScopes is empty/);
  });

  it('refuses an issuer or JWKS URI that is not an https URL (keys fetched over HTTP could be swapped)', () => {
    expect(() => resourceServer({ issuer: 'gatehouse' })).toThrow(/issuer must be an https URL/);
    expect(() => resourceServer({ jwksUri: 'http://gatehouse.bank.example/v1/.well-known/jwks.json' })).toThrow(/jwksUri must be an https URL/);
    expect(() => resourceServer({ publicBaseUrl: 'api.bank.example' })).toThrow(/publicBaseUrl must be a URL/);
  });

  it('fails synthesis when a method it protects has no route scopes entry (it would deny every request)', () => {
    const server = resourceServer(
      {},
      {
        paths: [
          ['GET', '/accounts/{id}'],
          ['POST', '/transfers'],
        ],
      },
    );
    expect(() => server.app.synth()).toThrow(/"POST \/transfers" uses this authorizer but has no routeScopes entry/);
  });

  it('accepts an ANY entry for every method of a resource', () => {
    const server = resourceServer(
      { routeScopes: { 'ANY /accounts/{id}': ['accounts:read'] } },
      {
        paths: [
          ['GET', '/accounts/{id}'],
          ['POST', '/accounts/{id}'],
        ],
      },
    );
    expect(() => server.app.synth()).not.toThrow();
  });
});

describe('GatehouseAuthorizer under cdk-nag AwsSolutions', () => {
  let server: ResourceServer;

  beforeAll(() => {
    server = resourceServer(
      {},
      {
        paths: [
          ['GET', '/accounts/{id}'],
          ['POST', '/payments'],
        ],
      },
    );
    // Synthesis runs the aspect that acknowledges COG4 on the methods the authorizer protects.
    server.app.synth();
  });

  it("leaves a resource server's stack without unacknowledged errors or warnings", () => {
    const report = new AwsSolutionsChecks(server.app, { verbose: true }).validateScope(server.stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges COG4 on exactly the methods it protects, and only the X-Ray wildcard, runtime pin, VPC and DLQ rules on its function', () => {
    const acks = acknowledgments(server.stack).filter((a) => a.path.startsWith(`${server.stack.node.path}/Authz`) || a.id === 'AwsSolutions-COG4');
    expect(acks.map((a) => `${a.path.replace(`${server.stack.node.path}/`, '')} ${a.id}`).sort()).toEqual(
      [
        'Api/Default/accounts/{id}/GET AwsSolutions-COG4',
        'Api/Default/payments/POST AwsSolutions-COG4',
        'Authz/Function/Function AwsSolutions-L1',
        'Authz/Function/Function NIST.800.53.R5-LambdaDLQ',
        'Authz/Function/Function NIST.800.53.R5-LambdaInsideVPC',
        'Authz/Function/Function PCI.DSS.321-LambdaInsideVPC',
        'Authz/Function/Role AwsSolutions-IAM5[Resource::*]',
      ].sort(),
    );
    expect(acks.find((a) => a.id === 'NIST.800.53.R5-LambdaDLQ')!.reason).toMatch(/REQUEST authorizer synchronously/);
    for (const ack of acks) expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(80);
  });

  it('still reports COG4 for a method of the same API that it does not protect (the acknowledgment is not API-wide)', () => {
    const unprotected = resourceServer();
    unprotected.api.root.addResource('open').addMethod('GET', new apigateway.MockIntegration(), {
      authorizationType: apigateway.AuthorizationType.IAM,
      requestValidatorOptions: { validateRequestParameters: true },
    });
    unprotected.app.synth();
    const report = new AwsSolutionsChecks(unprotected.app).validateScope(unprotected.stack);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath).join(',')}`)).toEqual([
      expect.stringMatching(/^AwsSolutions-COG4 ResourceServer\/Api\/Default\/open\/GET/),
    ]);
  });

  it('synthesizes with the pack registered as a validation plugin', () => {
    const app = resourceServer().app;
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('GatehouseAuthorizer bundle', () => {
  let bundle: string;
  let bundlePath: string;

  beforeAll(() => {
    const server = resourceServer({}, { bundle: true });
    const assembly = server.app.synth();
    const code = Template.fromStack(server.stack).toJSON().Resources[logicalId(server.authz.function)].Properties.Code as { S3Key: string };
    bundlePath = join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
    bundle = readFileSync(bundlePath, 'utf8');
  }, 120_000);

  it('holds only the verifier: no AWS SDK client, no compiled-in policy', () => {
    expect(bundle).not.toMatch(/DynamoDBClient|SecretsManagerClient|SFNClient|SESv2Client/);
    expect(bundle).not.toContain(defaultConfig().policy.document.id);
    expect(bundle).not.toContain('__GATEHOUSE_POLICY__');
  });

  it('starts from its environment and answers as API Gateway expects, without reaching the network', async () => {
    // Neither case fetches the JWKS: no token is refused before verification, an unconfigured route before that.
    const script = `
      const { handler } = await import(process.argv[1]);
      const event = (headers, resource) => ({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:eu-west-1:1:a/v1/GET/x', resource, path: '/x', httpMethod: 'GET', headers, requestContext: {} });
      const missing = await handler(event({}, '/accounts/{id}')).then(() => 'allowed', (e) => e.message);
      const unconfigured = await handler(event({}, '/elsewhere'));
      process.stdout.write(JSON.stringify({ missing, unconfigured: unconfigured.policyDocument.Statement[0].Effect }));`;
    const env = {
      ...process.env,
      AWS_REGION: 'eu-west-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      [AUTHORIZER_ENV.issuer]: ISSUER,
      [AUTHORIZER_ENV.audience]: AUDIENCE,
      [AUTHORIZER_ENV.jwksUri]: `${ISSUER}/.well-known/jwks.json`,
      [AUTHORIZER_ENV.routeScopes]: JSON.stringify(ROUTE_SCOPES),
    };
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, pathToFileURL(bundlePath).href], { env });
    expect(JSON.parse(stdout)).toEqual({ missing: 'Unauthorized', unconfigured: 'Deny' });
  });
});
