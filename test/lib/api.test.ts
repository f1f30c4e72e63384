import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { ACCESS_LOG_FORMAT, GatehouseApi, STAGE_NAME } from '../../lib/api.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { HTTP_HANDLERS, ROUTES, type HttpHandlerName, type Route } from '../../lambdas/contracts/routes.js';
import { arnOf, logicalId, synthGatehouse, testApp } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The API Gateway authorization type a route must have. */
const authorizationOf = (route: Route) => (route.auth === 'iam' ? 'AWS_IAM' : 'NONE');

/** The rule ids acknowledged on a construct or any of its ancestors, with their reasons (what cdk-nag honours). */
function acknowledgedFor(construct: IConstruct): Map<string, string> {
  const acks = new Map<string, string>();
  for (const scope of construct.node.scopes) {
    for (const m of scope.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)) {
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks.set(id.replace(/^Annotation::/i, ''), reason);
    }
  }
  return acks;
}

/** A GatehouseApi alone in a stack, over stand-in functions, for custom route tables. */
function apiAlone(routes: readonly Route[]): { stack: Stack; api: GatehouseApi } {
  const stack = new Stack(testApp(), 'ApiAlone');
  const fn = new lambda.Function(stack, 'Handler', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
  const handlers = {} as Record<HttpHandlerName, lambda.IFunction>;
  for (const h of HTTP_HANDLERS) handlers[h] = fn;
  const api = new GatehouseApi(stack, 'Api', { handlers, routes, logEncryptionKey: new kms.Key(stack, 'Logs'), cloudWatchRole: false });
  return { stack, api };
}

/** Rebuilds each AWS::ApiGateway::Resource's full path from PathPart/ParentId, keyed by logical id. */
function resourcePaths(resources: Resources): Map<string, string> {
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const props = resources[id]!.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = props.ParentId.Ref ? pathOf(props.ParentId.Ref) : '';
    const path = `${parent}/${props.PathPart}`;
    paths.set(id, path);
    return path;
  };
  for (const [id, r] of Object.entries(resources)) if (r.Type === 'AWS::ApiGateway::Resource') pathOf(id);
  return paths;
}

describe('GatehouseApi', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
  });

  it('creates exactly one method per route in the route table', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', ROUTES.length);
  });

  it('creates one resource per distinct path prefix, nesting {client_id} and .well-known', () => {
    const prefixes = new Set(
      ROUTES.flatMap((r) =>
        r.path
          .split('/')
          .slice(1)
          .map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`),
      ),
    );
    expect([...resourcePaths(resources).values()].sort()).toEqual([...prefixes].sort());
    expect(prefixes).toContain('/register/{client_id}');
    expect(prefixes).toContain('/.well-known');
  });

  describe.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('route %s', (_name, route) => {
    it(`is a Lambda proxy method integrated with the ${route.handler} function, with ${authorizationOf(route)} authorization`, () => {
      const paths = resourcePaths(resources);
      const methods = Object.values(resources).filter((r) => {
        if (r.Type !== 'AWS::ApiGateway::Method' || r.Properties.HttpMethod !== route.method) return false;
        const resourceId = (r.Properties.ResourceId as { Ref: string }).Ref;
        return paths.get(resourceId) === route.path;
      });
      expect(methods).toHaveLength(1);
      const fnArn = arnOf(stack.handlers.functions[route.handler]);
      expect(methods[0]!.Properties).toMatchObject({
        AuthorizationType: authorizationOf(route),
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          Uri: { 'Fn::Join': ['', expect.arrayContaining([fnArn, '/invocations'])] },
        },
      });
    });

    it('lets API Gateway invoke the function for this method on the deployed stage only', () => {
      const sourcePath = `/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}`;
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: arnOf(stack.handlers.functions[route.handler]),
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(stack.api.restApi.deploymentStage) }, sourcePath])] },
      });
    });
  });

  it('serves GET and POST /reviews/{review_id} with the one review function', () => {
    const reviewRoutes = ROUTES.filter((r) => r.path.startsWith('/reviews/'));
    expect(reviewRoutes.map((r) => `${r.method} ${r.path} ${r.handler}`).sort()).toEqual([
      'GET /reviews/{review_id} review',
      'POST /reviews/{review_id} review',
    ]);
    const paths = resourcePaths(resources);
    const integrated = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method' && paths.get((r.Properties.ResourceId as { Ref: string }).Ref) === '/reviews/{review_id}')
      .map((r) => [r.Properties.HttpMethod, JSON.stringify(r.Properties.Integration)] as const);
    expect(integrated.map(([method]) => method).sort()).toEqual(['GET', 'POST']);
    for (const [, integration] of integrated) expect(integration).toContain(JSON.stringify(arnOf(stack.handlers.functions.review)));
  });

  it('grants no test-invoke permissions, only one per route', () => {
    // The only other permissions in the stack let Secrets Manager invoke the signing-key and client-secret rotation
    // functions, and EventBridge the sweep function.
    const all = Object.values(template.findResources('AWS::Lambda::Permission'));
    expect(all.filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com')).toHaveLength(ROUTES.length);
    expect(all.filter((p) => p.Properties.Principal !== 'apigateway.amazonaws.com').map((p) => [p.Properties.Principal, p.Properties.FunctionName])).toEqual(
      expect.arrayContaining([
        ['secretsmanager.amazonaws.com', arnOf(stack.signingKey.rotationFunction.function)],
        ['secretsmanager.amazonaws.com', arnOf(stack.handlers.functions['client-secret-rotation'])],
        ['events.amazonaws.com', arnOf(stack.handlers.functions.sweep)],
      ]),
    );
    template.resourceCountIs('AWS::Lambda::Permission', ROUTES.length + 3);
  });

  it('authorizes every /admin route with IAM (SigV4) and no other route', () => {
    const adminRoutes = ROUTES.filter((r) => r.path.startsWith('/admin/'));
    expect(adminRoutes.length).toBeGreaterThan(0);
    // The route table and the API agree in both directions: /admin routes are exactly the iam routes, and exactly those
    // methods carry AWS_IAM.
    expect(ROUTES.filter((r) => r.auth === 'iam')).toEqual(adminRoutes);
    // The admin function, and the function that resends review links (it signs them and sends email, which admin may not).
    for (const route of adminRoutes) expect(['admin', 'review-links']).toContain(route.handler);
    const paths = resourcePaths(resources);
    const iamMethods = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.AuthorizationType === 'AWS_IAM')
      .map((r) => `${r.Properties.HttpMethod as string} ${paths.get((r.Properties.ResourceId as { Ref: string }).Ref)}`);
    expect(iamMethods.sort()).toEqual(adminRoutes.map((r) => `${r.method} ${r.path}`).sort());
    for (const [key, method] of Object.entries(stack.api.methods)) {
      const route = ROUTES.find((r) => `${r.method} ${r.path}` === key)!;
      expect((method.node.defaultChild as apigateway.CfnMethod).authorizationType, key).toBe(authorizationOf(route));
    }
  });

  it('acknowledges APIG4 only on public methods and COG4 per method with its own reason; nothing API-wide', () => {
    for (const route of ROUTES) {
      const acks = acknowledgedFor(stack.api.methods[`${route.method} ${route.path}`]!);
      const where = `${route.method} ${route.path}`;
      if (route.auth === 'iam') {
        expect(acks.has('AwsSolutions-APIG4'), where).toBe(false);
        expect(acks.get('AwsSolutions-COG4'), where).toMatch(/IAM authorization \(AWS_IAM\).*SigV4/);
      } else {
        expect(acks.get('AwsSolutions-APIG4'), where).toContain(where);
        expect(acks.get('AwsSolutions-COG4'), where).toContain(where);
      }
    }
    const apiWide = acknowledgedFor(stack.api.restApi);
    expect(apiWide.has('AwsSolutions-APIG4')).toBe(false);
    expect(apiWide.has('AwsSolutions-COG4')).toBe(false);
  });

  it('leaves IAM methods compliant with APIG4 without any acknowledgment (cdk-nag reports nothing)', () => {
    const report = new AwsSolutionsChecks(stack.node.root, { verbose: true }).validateScope(stack.api);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('no longer acknowledges APIG3: the stage is associated with the WAF web ACL', () => {
    expect(acknowledgedFor(stack.api.restApi.deploymentStage).has('AwsSolutions-APIG3')).toBe(false);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: {
        'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(stack.api.restApi) }, '/stages/', { Ref: logicalId(stack.api.restApi.deploymentStage) }])],
      },
      WebACLArn: { 'Fn::GetAtt': [logicalId(stack.api.firewall.webAcl), 'Arn'] },
    });
  });

  it('acknowledges the gateway cache and backend client certificate rules for NIST and PCI on the API, with reasons', () => {
    const acks = acknowledgedFor(stack.api.restApi.deploymentStage);
    for (const pack of ['NIST.800.53.R5', 'PCI.DSS.321']) {
      expect(acks.get(`${pack}-APIGWCacheEnabledAndEncrypted`)).toMatch(/no-store/);
      expect(acks.get(`${pack}-APIGWSSLEnabled`)).toMatch(/AWS_PROXY to Lambda/);
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', { CacheClusterEnabled: Match.absent(), ClientCertificateId: Match.absent() });
  });

  describe('per-route throttling', () => {
    const settings = () =>
      (Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Stage')!.Properties.MethodSettings as Array<Record<string, unknown>>).map((m) => ({
        ...m,
        // CloudFormation spells a method's resource path with `~1` for each `/` after the leading one.
        key: `${m.HttpMethod as string} ${m.ResourcePath === '/*' ? '/*' : String(m.ResourcePath).slice(1).replaceAll('~1', '/')}`,
      }));
    const find = (key: string) => settings().find((m) => m.key === key);

    it('limits the token endpoint above the stage default, registration and reviews above one IP WAF allowance, admin below the stage', () => {
      expect(find('POST /oauth2/token')).toMatchObject({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
      // WAF lets one IP send 100 registration and 300 review requests in 5 minutes: the shared buckets hold more than that.
      expect(find('POST /register')).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 200 });
      expect(find('GET /register/{client_id}')).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 200 });
      for (const route of ROUTES.filter((r) => r.path.startsWith('/reviews/'))) {
        expect(find(`${route.method} ${route.path}`), route.path).toMatchObject({ ThrottlingRateLimit: 20, ThrottlingBurstLimit: 600 });
      }
      for (const route of ROUTES.filter((r) => r.path.startsWith('/admin/'))) {
        expect(find(`${route.method} ${route.path}`), route.path).toMatchObject({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 });
      }
    });

    it('leaves the other routes at the stage-wide limits, and repeats the stage logging settings in every override', () => {
      for (const key of ['POST /oauth2/introspect', 'POST /oauth2/revoke', 'GET /.well-known/jwks.json']) expect(find(key), key).toBeUndefined();
      expect(find('* /*')).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR' });
      const overrides = settings().filter((m) => m.key !== '* /*');
      expect(overrides).toHaveLength(stack.api.routeThrottles.size);
      for (const m of overrides)
        expect(m, m.key).toMatchObject({ LoggingLevel: 'ERROR', MetricsEnabled: true, DataTraceEnabled: false, CachingEnabled: false });
    });
  });

  it('deploys a regional API to the v1 stage with tracing, JSON access logs, ERROR execution logs without data trace, and throttling', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: STAGE_NAME,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: arnOf(stack.api.accessLogGroup), Format: ACCESS_LOG_FORMAT.toString() },
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        }),
      ]),
    });
  });

  it('writes access logs as JSON without query strings or headers', () => {
    const format = JSON.parse(ACCESS_LOG_FORMAT.toString()) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      httpMethod: '$context.httpMethod',
      path: '$context.path',
      status: '$context.status',
      resourcePath: '$context.resourcePath',
      responseLatency: '$context.responseLatency',
    });
    const variables = Object.values(format).join(' ');
    expect(variables).not.toMatch(/querystring|header|requestOverride|authorizer/i);
  });

  it('keeps access logs a year in a log group encrypted with the logs key', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: arnOf(stack.logEncryptionKey.key), RetentionInDays: 365 });
    expect(resources[logicalId(stack.api.accessLogGroup)]!.Properties).toMatchObject({ KmsKeyId: arnOf(stack.logEncryptionKey.key), RetentionInDays: 365 });
  });

  it('creates the account-level CloudWatch role for execution logs by default, retained', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    template.hasResource('AWS::IAM::Role', {
      Properties: Match.objectLike({
        ManagedPolicyArns: [Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'])] })],
      }),
      DeletionPolicy: 'Retain',
    });
  });

  it('gives the handlers an issuer built from the API id, not the stage (no dependency cycle)', () => {
    const issuer = {
      'Fn::Join': [
        '',
        ['https://', { Ref: logicalId(stack.api.restApi) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${STAGE_NAME}`],
      ],
    };
    for (const fn of Object.values(stack.handlers.functions)) {
      expect(resources[logicalId(fn)]!.Properties).toMatchObject({ Environment: { Variables: { [ENV.issuer]: issuer } } });
    }
  });
});

describe('GatehouseApi over a custom route table', () => {
  const route = (r: Partial<Route>): Route => ({
    method: 'GET',
    path: '/x',
    handler: 'discovery',
    operationId: `${r.method ?? 'GET'}${r.path ?? '/x'}`.replaceAll(/\W/g, ''),
    description: 'test',
    auth: 'public',
    ...r,
  });

  it("follows each route's auth, not its path: an iam route elsewhere gets AWS_IAM, a public one NONE", () => {
    const { stack } = apiAlone([route({ path: '/ops/report', auth: 'iam' }), route({ path: '/open' })]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGateway::Method', 2);
    template.hasResourceProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::ApiGateway::Method', { AuthorizationType: 'NONE' });
    const findings = new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName);
    expect(findings).not.toContain('AwsSolutions-APIG4');
    expect(findings).not.toContain('AwsSolutions-COG4');
  });

  it('reports APIG4 for a method that is not IAM-authorized and not acknowledged (the check is live)', () => {
    const { stack, api } = apiAlone([route({ path: '/ops/report', auth: 'iam' })]);
    api.restApi.root.addResource('bare').addMethod('GET');
    const violations = new AwsSolutionsChecks(stack).validateScope(stack).violations;
    const apig4 = violations.find((v) => v.ruleName === 'AwsSolutions-APIG4');
    expect(apig4?.violatingResources.map((r) => r.constructPath)).toEqual(['ApiAlone/Api/RestApi/Default/bare/GET/Resource']);
  });

  it('refuses a public route served by the admin handler', () => {
    expect(() => apiAlone([route({ path: '/admin/consumers', handler: 'admin', auth: 'public' })])).toThrow(
      /GatehouseApi: GET \/admin\/consumers is public, but the admin handler authenticates nobody itself; give the route auth: 'iam'/,
    );
  });
});

describe('GatehouseApi with overrides', () => {
  it('uses a given issuer (custom domain), stage and route throttling limits, body limit and per-IP rate', () => {
    const { stack, template } = synthGatehouse({
      issuer: 'https://auth.bank.example',
      apiThrottlingRateLimit: 7,
      apiThrottlingBurstLimit: 9,
      apiCloudWatchRole: false,
      apiRouteThrottling: { 'POST /oauth2/*': { rateLimit: 300, burstLimit: 600 } },
      apiMaxBodyKiB: 16,
      apiRequestsPerIpPer5Minutes: 500,
    });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 }),
        Match.objectLike({ HttpMethod: 'POST', ResourcePath: '/~1oauth2~1revoke', ThrottlingRateLimit: 300, ThrottlingBurstLimit: 600 }),
      ]),
    });
    // The override wins over the token route's own limits; routes it does not match keep theirs.
    expect(stack.api.routeThrottles.get('POST /oauth2/token')).toEqual({ rateLimit: 300, burstLimit: 600 });
    expect(stack.api.routeThrottles.get('POST /register')).toEqual({ rateLimit: 10, burstLimit: 200 });
    expect(stack.api.routeThrottles.has('GET /.well-known/jwks.json')).toBe(false);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_16' } } },
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'BodySizeLimit', Statement: { SizeConstraintStatement: Match.objectLike({ Size: 16_384 }) } }),
        Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: 500 }) } }),
      ]),
    });
    const resources = template.toJSON().Resources as Resources;
    for (const fn of Object.values(stack.handlers.functions)) {
      expect(resources[logicalId(fn)]!.Properties).toMatchObject({ Environment: { Variables: { [ENV.issuer]: 'https://auth.bank.example' } } });
    }
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(stack.api.issuerUrl).toBe('https://auth.bank.example');
  });
});
