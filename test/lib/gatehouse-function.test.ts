import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { POLICY_DEFINE } from '../../lambdas/adapters/aws/env.js';
import { loadPolicyFile } from '../../lambdas/core/policy/load.js';
import { ESM_REQUIRE_BANNER, GatehouseFunction, gatehouseBundling, PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { arnOf, logicalId, sortedActions, statementsOfRole, testApp } from './stack-fixture.js';

const policy = loadPolicyFile(join(PROJECT_ROOT, 'policy/policy.json'));
const probeSpec = { entry: 'test/lib/fixtures/policy-probe.ts', capabilities: [], memorySize: 128, timeoutSeconds: 3 } as const;

describe('gatehouseBundling', () => {
  it('bundles locally as minified ESM for node22 with source maps and the createRequire banner', () => {
    const bundling = gatehouseBundling(policy);
    expect(bundling).toMatchObject({
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: 'node22',
      minify: true,
      sourceMap: true,
      banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      externalModules: [],
    });
  });

  it('defines the policy as a JS string literal whose value is the policy JSON', () => {
    const expression = gatehouseBundling(policy).define?.[POLICY_DEFINE];
    expect(expression).toBeDefined();
    const value: unknown = new Function(`return ${expression};`)();
    expect(typeof value).toBe('string');
    expect(JSON.parse(value as string)).toEqual(policy.document);
  });
});

describe('GatehouseFunction', () => {
  function build(): { stack: Stack; fn: GatehouseFunction; key: kms.Key; template: Template } {
    const stack = new Stack(testApp(), 'Test');
    const key = new kms.Key(stack, 'LogKey');
    const fn = new GatehouseFunction(stack, 'Probe', { spec: probeSpec, policy, logEncryptionKey: key, environment: { EXTRA: 'x' } });
    return { stack, fn, key, template: Template.fromStack(stack) };
  }

  it('runs Node.js 22 on arm64 with active tracing, JSON logs to its own log group, and the base environment', () => {
    const { fn, template } = build();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
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
      DeletionPolicy: 'Retain',
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

  it('compiles the policy into a runnable ESM bundle with esbuild (real bundling, no Docker)', async () => {
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
