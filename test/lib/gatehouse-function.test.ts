import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { POLICY_DEFINE } from '../../lambdas/adapters/aws/env.js';
import { loadPolicyFile } from '../../lambdas/core/policy/load.js';
import { BUNDLE_ALIASES, gatehouseBundling } from '../../lib/bundling.js';
import { ESM_REQUIRE_BANNER, GatehouseFunction, OUTSIDE_VPC_REASON, PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { arnOf, logicalId, sortedActions, statementsOfRole, testApp } from './stack-fixture.js';

const policy = loadPolicyFile(join(PROJECT_ROOT, 'policy/policy.json'));
const probeSpec = {
  entry: 'test/lib/fixtures/policy-probe.ts',
  capabilities: [],
  memorySize: 128,
  timeoutSeconds: 3,
  reservedConcurrency: 7,
  invokedBy: 'api',
} as const;

describe('gatehouseBundling', () => {
  it('bundles as minified ESM with source maps, the createRequire banner, the SDK bundled and only the credential-chain alias', () => {
    expect(gatehouseBundling(policy)).toMatchObject({
      format: 'esm',
      minify: true,
      sourceMap: true,
      banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      externalModules: [],
      esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': './lambdas/adapters/aws/lambda-credentials.ts' },
    });
    // The alias target is resolved from the directory esbuild runs in: the project root.
    for (const target of Object.values(BUNDLE_ALIASES)) {
      expect(existsSync(join(PROJECT_ROOT, target)), target).toBe(true);
    }
  });

  it('defines the policy as a JS string literal whose value is the policy JSON', () => {
    const expression = gatehouseBundling(policy).define?.[POLICY_DEFINE];
    expect(expression).toBeDefined();
    const value: unknown = new Function(`return ${expression};`)();
    expect(typeof value).toBe('string');
    expect(JSON.parse(value as string)).toEqual(policy.document);
    expect(gatehouseBundling().define).toEqual({});
  });
});

describe('GatehouseFunction', () => {
  function build(): { stack: Stack; fn: GatehouseFunction; key: kms.Key; template: Template } {
    const stack = new Stack(testApp(), 'Test');
    const key = new kms.Key(stack, 'LogKey');
    const fn = new GatehouseFunction(stack, 'Probe', { spec: probeSpec, policy, logEncryptionKey: key, environment: { EXTRA: 'x' } });
    return { stack, fn, key, template: Template.fromStack(stack) };
  }

  it('runs Node.js 24 on arm64 with active tracing, JSON logs to its own log group, and the base environment', () => {
    const { fn, template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 128,
      Timeout: 3,
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalId(fn.logGroup) } },
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'gatehouse', EXTRA: 'x' } },
    });
  });

  it('logs to a retained log group encrypted with the given key, kept one year', () => {
    const { key, template } = build();
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { KmsKeyId: arnOf(key), RetentionInDays: 365 },
      DeletionPolicy: 'RetainExceptOnCreate',
    });
  });

  it('gives its role only log writing to its own log group and X-Ray, without AWS managed policies', () => {
    const { fn, template } = build();
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    expect(sortedActions(statementsOfRole(template, logicalId(fn.role)))).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(fn.logGroup) },
      { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' },
    ]);
  });

  it('keeps its permissions in a customer-managed policy attached to its role, never an inline one', () => {
    const { fn, template } = build();
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', { Roles: [{ Ref: logicalId(fn.role) }] });
    expect(fn.role.permissionsPolicy?.node.scope).toBe(fn.role);
  });

  it('reserves the concurrency of its spec, or the one given', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 7 });
    const stack = new Stack(testApp(), 'Override');
    new GatehouseFunction(stack, 'Probe', { spec: probeSpec, logEncryptionKey: new kms.Key(stack, 'LogKey'), reservedConcurrency: 250 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 250 });
  });

  it('acknowledges the VPC and DLQ compliance rules with the reason for its way of invocation', () => {
    const { fn } = build();
    const acknowledged = Object.fromEntries(
      fn.function.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => [id.replace(/^Annotation::/i, ''), reason])),
    );
    expect(Object.keys(acknowledged).sort()).toEqual([
      'AwsSolutions-L1',
      'NIST.800.53.R5-LambdaDLQ',
      'NIST.800.53.R5-LambdaInsideVPC',
      'PCI.DSS.321-LambdaInsideVPC',
    ]);
    expect(acknowledged['NIST.800.53.R5-LambdaDLQ']).toMatch(/API Gateway invokes the function synchronously/);
    expect(acknowledged['PCI.DSS.321-LambdaInsideVPC']).toBe(OUTSIDE_VPC_REASON);
  });

  it('refuses to synthesize an asynchronously invoked function without a dead-letter queue', () => {
    const app = testApp();
    const stack = new Stack(app, 'Scheduled');
    const fn = new GatehouseFunction(stack, 'Probe', { spec: { ...probeSpec, invokedBy: 'schedule' }, logEncryptionKey: new kms.Key(stack, 'LogKey') });
    expect(() => app.synth()).toThrow(/test\/lib\/fixtures\/policy-probe\.ts is invoked asynchronously \(schedule\) but has no dead-letter queue/);
    const metadata = fn.function.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(JSON.stringify(metadata)).not.toContain('LambdaDLQ');
  });

  it('compiles the policy into a runnable ESM bundle with NodejsFunction’s local esbuild (real bundling, no Docker)', async () => {
    const app = testApp(true);
    const stack = new Stack(app, 'Bundled');
    const fn = new GatehouseFunction(stack, 'Probe', { spec: probeSpec, policy, logEncryptionKey: new kms.Key(stack, 'LogKey') });
    const assembly = app.synth();
    const code = Template.fromStack(stack).toJSON().Resources[logicalId(fn.function)].Properties.Code;
    const assetDir = join(assembly.directory, `asset.${String(code.S3Key).replace(/\.zip$/, '')}`);
    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');

    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
    const probe = (await import(pathToFileURL(join(assetDir, 'index.mjs')).href)) as { handler: () => Promise<Record<string, unknown>> };
    const result = await probe.handler();
    expect(result.policyType).toBe('string');
    expect(result.policy).toEqual(policy.document);
    expect(result.requireWorks).toBe(true);
  });
});
