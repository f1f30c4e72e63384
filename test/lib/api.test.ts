import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { ACCESS_LOG_FORMAT, STAGE_NAME } from '../../lib/api.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { ROUTES } from '../../lib/routes.js';
import { arnOf, logicalId, synthGatehouse } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

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
    const prefixes = new Set(ROUTES.flatMap((r) => r.path.split('/').slice(1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`)));
    expect([...resourcePaths(resources).values()].sort()).toEqual([...prefixes].sort());
    expect(prefixes).toContain('/register/{client_id}');
    expect(prefixes).toContain('/.well-known');
  });

  describe.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('route %s', (_name, route) => {
    it(`is a Lambda proxy method integrated with the ${route.handler} function`, () => {
      const paths = resourcePaths(resources);
      const methods = Object.values(resources).filter((r) => {
        if (r.Type !== 'AWS::ApiGateway::Method' || r.Properties.HttpMethod !== route.method) return false;
        const resourceId = (r.Properties.ResourceId as { Ref: string }).Ref;
        return paths.get(resourceId) === route.path;
      });
      expect(methods).toHaveLength(1);
      const fnArn = arnOf(stack.handlers.functions[route.handler]);
      expect(methods[0]!.Properties).toMatchObject({
        AuthorizationType: 'NONE',
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
    expect(reviewRoutes.map((r) => `${r.method} ${r.path} ${r.handler}`).sort()).toEqual(['GET /reviews/{review_id} review', 'POST /reviews/{review_id} review']);
    const paths = resourcePaths(resources);
    const integrated = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method' && paths.get((r.Properties.ResourceId as { Ref: string }).Ref) === '/reviews/{review_id}')
      .map((r) => [r.Properties.HttpMethod, JSON.stringify(r.Properties.Integration)] as const);
    expect(integrated.map(([method]) => method).sort()).toEqual(['GET', 'POST']);
    for (const [, integration] of integrated) expect(integration).toContain(JSON.stringify(arnOf(stack.handlers.functions.review)));
  });

  it('grants no test-invoke permissions, only one per route', () => {
    // The only other permission in the stack lets Secrets Manager invoke the signing-key rotation function.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions).toHaveLength(ROUTES.length);
    template.resourceCountIs('AWS::Lambda::Permission', ROUTES.length + 1);
  });

  it('deploys a regional API to the v1 stage with tracing, JSON access logs, ERROR execution logs without data trace, and throttling', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: STAGE_NAME,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: arnOf(stack.api.accessLogGroup), Format: ACCESS_LOG_FORMAT.toString() },
      MethodSettings: [
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ],
    });
  });

  it('writes access logs as JSON without query strings or headers', () => {
    const format = JSON.parse(ACCESS_LOG_FORMAT.toString()) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', resourcePath: '$context.resourcePath' });
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
      Properties: Match.objectLike({ ManagedPolicyArns: [Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'])] })] }),
      DeletionPolicy: 'Retain',
    });
  });

  it('gives the handlers an issuer built from the API id, not the stage (no dependency cycle)', () => {
    const issuer = {
      'Fn::Join': ['', ['https://', { Ref: logicalId(stack.api.restApi) }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${STAGE_NAME}`]],
    };
    for (const fn of Object.values(stack.handlers.functions)) {
      expect(resources[logicalId(fn)]!.Properties).toMatchObject({ Environment: { Variables: { [ENV.issuer]: issuer } } });
    }
  });
});

describe('GatehouseApi with overrides', () => {
  it('uses a given issuer (custom domain) and stage throttling limits', () => {
    const { stack, template } = synthGatehouse({ issuer: 'https://auth.bank.example', apiThrottlingRateLimit: 7, apiThrottlingBurstLimit: 9, apiCloudWatchRole: false });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 })],
    });
    const resources = template.toJSON().Resources as Resources;
    for (const fn of Object.values(stack.handlers.functions)) {
      expect(resources[logicalId(fn)]!.Properties).toMatchObject({ Environment: { Variables: { [ENV.issuer]: 'https://auth.bank.example' } } });
    }
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(stack.api.issuerUrl).toBe('https://auth.bank.example');
  });

});
