import { type App, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lib/functions.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { arnOf, defaultConfig, logicalId, synthGatehouse, testApp } from './stack-fixture.js';

/** Every acknowledgment (cdk-nag suppression) in a construct tree, with where it sits and its reason. */
function acknowledgments(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    );
}

describe('GatehouseStack', () => {
  let stack: GatehouseStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
  });

  it('outputs the API URL, issuer, table name, state machine ARN, signing secret ARN, client-secret prefix and the alarm names', () => {
    template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(stack.api.restApi.deploymentStage) }])] } });
    template.hasOutput('Issuer', { Value: { 'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(stack.api.restApi) }, '/v1'])] } });
    template.hasOutput('TableName', { Value: { Ref: logicalId(stack.registry.table) } });
    template.hasOutput('StateMachineArn', { Value: { Ref: logicalId(stack.reviewWorkflow.stateMachine) } });
    template.hasOutput('SigningKeySecretArn', { Value: { Ref: logicalId(stack.signingKey.secret) } });
    template.hasOutput('SigningKeyRotationAlarmName', { Value: { Ref: logicalId(stack.signingKey.rotationAlarm) } });
    template.hasOutput('ClientSecretPrefix', { Value: 'gatehouse/Gatehouse/clients/' });
    template.hasOutput('ClientSecretRotationAlarmName', { Value: { Ref: logicalId(stack.clientSecrets.rotationAlarm) } });
    template.hasOutput('SweepAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.errorsAlarm) } });
    template.hasOutput('SweepDeadLetterAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.deadLetterAlarm) } });
  });

  it('is environment-agnostic (no account or region needed to synthesize)', () => {
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    expect(Token.isUnresolved(stack.account) && Token.isUnresolved(stack.region)).toBe(true);
  });

  it('encrypts every log group with the logs key and sends every function to one of them', () => {
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // One per handler in FUNCTIONS + seeding function + rotation function + provider framework + state machine + API access logs.
    expect(logGroups).toHaveLength(Object.keys(FUNCTIONS).length + 5);
    for (const group of logGroups) expect(group.Properties.KmsKeyId).toEqual(arnOf(stack.logEncryptionKey.key));
    // Every Lambda writes to one of them (none falls back to an unencrypted /aws/lambda/* group).
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.LoggingConfig.LogGroup).toHaveProperty('Ref');
  });
});

describe('GatehouseStack under cdk-nag AwsSolutions', () => {
  let app: App;
  let stack: GatehouseStack;

  beforeAll(() => {
    app = testApp();
    stack = new GatehouseStack(app, 'Gatehouse', defaultConfig());
  });

  it('has no unacknowledged errors or warnings', () => {
    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('has no unacknowledged findings when the stack also creates the SES identity', () => {
    const sesApp = testApp();
    const sesStack = new GatehouseStack(sesApp, 'Gatehouse', { ...defaultConfig(), createSesIdentity: true });
    const report = new AwsSolutionsChecks(sesApp, { verbose: true }).validateScope(sesStack);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
    Template.fromStack(sesStack).hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'bank.example' });
  });

  it('synthesizes with the pack registered as a validation plugin, as bin/gatehouse.ts does', () => {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
    expect(() => app.synth()).not.toThrow();
  });

  it('reports a violation in an unacknowledged resource (the check is live)', () => {
    const controlApp = testApp();
    const control = new Stack(controlApp, 'Control');
    new dynamodb.Table(control, 'Bare', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    const pack = new AwsSolutionsChecks(controlApp);
    expect(pack.validateScope(control).violations.map((v) => v.ruleName)).toContain('AwsSolutions-DDB3');
    Validations.of(controlApp).addPlugins(pack);
    expect(() => controlApp.synth()).toThrow(/AwsSolutions-DDB3/);
  });

  it('gives every acknowledgment a specific written reason and acknowledges no rule stack-wide', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(80);
      expect(ack.path).not.toBe(stack.node.path);
      // IAM5 is acknowledged per finding, never for every wildcard of a resource.
      if (ack.id.includes('AwsSolutions-IAM5')) expect(ack.id).toMatch(/IAM5\[(Resource|Action)::.+\]$/);
    }
    const ruleIds = new Set(acks.map((a) => a.id.replace(/^Annotation::/i, '').replace(/\[.*$/, '')));
    expect([...ruleIds].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-SQS3',
    ]);
  });
});
