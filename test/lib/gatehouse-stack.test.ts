import { type App, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAppConfig, loadStackName } from '../../lib/app-config.js';
import { compliancePacks } from '../../lib/compliance-packs.js';
import { FUNCTIONS } from '../../lambdas/contracts/functions.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import type { HandlerFunctionName } from '../../lib/handler-functions.js';
import { REGISTRY_BACKUP_RETENTION } from '../../lib/registry-table.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';
import { arnOf, defaultConfig, logicalId, synthGatehouse, testApp } from './stack-fixture.js';

/** The three packs Gatehouse is checked with, as bin/gatehouse.ts registers them. */
const packs = (app: App): NagPack[] => compliancePacks(app);

/** Every unacknowledged finding of the three packs in a scope, as `severity rule at paths`. */
function findings(app: App, scope: IConstruct): string[] {
  return packs(app).flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`),
  );
}

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
    template.hasOutput('NoticeStateMachineArn', { Value: { Ref: logicalId(stack.noticeWorkflow.stateMachine) } });
    template.hasOutput('SigningKeySecretArn', { Value: { Ref: logicalId(stack.signingKey.secret) } });
    template.hasOutput('SigningKeyRotationAlarmName', { Value: { Ref: logicalId(stack.signingKey.rotationAlarm) } });
    template.hasOutput('ClientSecretPrefix', { Value: 'gatehouse/Gatehouse/clients/' });
    template.hasOutput('ClientSecretRotationAlarmName', { Value: { Ref: logicalId(stack.clientSecrets.rotationAlarm) } });
    template.hasOutput('SweepAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.errorsAlarm) } });
    template.hasOutput('SweepDeadLetterAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.deadLetterAlarm) } });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack.alarmTopic) } });
  });

  it("reserves no concurrency by default (a new account's quota cannot hold it), and says so", () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(stack.reservedConcurrency()).toBe(0);
    template.hasOutput('ReservedConcurrency', { Value: '0' });
  });

  it('reserves 290 concurrent executions in all when the reservedConcurrency context value is on (the account needs 390 with its 100 unreserved)', () => {
    const config = loadAppConfig((key) => ({ reservedConcurrency: 'true' })[key], PROJECT_ROOT);
    const reservedApp = testApp();
    const reservedStack = new GatehouseStack(reservedApp, 'Gatehouse', config);
    const reservedTemplate = Template.fromStack(reservedStack);
    const reserved = Object.values(reservedTemplate.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.ReservedConcurrentExecutions as number | undefined,
    );
    expect(reserved.every((r) => typeof r === 'number' && r > 0)).toBe(true);
    const total = reserved.reduce<number>((sum, r) => sum + r!, 0);
    expect(total).toBe(290);
    expect(reservedStack.reservedConcurrency()).toBe(total);
    reservedTemplate.hasOutput('ReservedConcurrency', { Value: '290' });
  });

  it("creates a KMS-encrypted, TLS-only alarm topic that only this account's alarms may publish to", () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(stack.node.findChild('AlarmTopic').node.findChild('Key')) });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('sends every alarm of the stack to the alarm topic, in alarm and back to OK', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    // Rotation (2), sweep (2), one fault alarm per handler and the signing-key rotation, mail (2), table (2), workflow,
    // notices, API, and on Gatehouse's own metrics: reviews expired, sweep stalled.
    expect(alarms).toHaveLength(4 + Object.keys(FUNCTIONS).length + 1 + 7 + 2);
    for (const alarm of alarms)
      expect(alarm.Properties).toMatchObject({ AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }], OKActions: [{ Ref: logicalId(stack.alarmTopic) }] });
    expect(Object.keys(stack.alarms.functionFaults).sort()).toEqual([...Object.keys(FUNCTIONS), 'signing-key-rotation'].sort());
  });

  it("has one dashboard, showing the state of every alarm of the stack and the token route's metrics", () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    const parts = body['Fn::Join'][1];
    const alarmRefs = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(alarmRefs.length).toBeGreaterThan(0);
    for (const ref of alarmRefs) expect(parts).toContainEqual(ref);
    expect(parts).toContainEqual({ Ref: logicalId(stack.handlers.functions.token) });
    const text = parts.filter((p): p is string => typeof p === 'string').join('');
    expect(text).toContain('"Resource","/oauth2/token"');
    expect(text).toContain('\\"Gatehouse/Gatehouse\\",service,tier,risk');
  });

  it("tells every handler and the signing-key rotation where to publish metrics: the stack's namespace, service gatehouse", () => {
    const functions = [...Object.values(stack.handlers.functions), stack.signingKey.rotationFunction.function];
    const resources = template.toJSON().Resources as Record<string, { Properties: { Environment: { Variables: Record<string, string> } } }>;
    for (const fn of functions) {
      expect(resources[logicalId(fn)]!.Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: 'Gatehouse/Gatehouse',
        POWERTOOLS_SERVICE_NAME: 'gatehouse',
      });
    }
  });

  it('watches the logs of exactly the functions that send through SES for SES failures', () => {
    const senders = (Object.keys(FUNCTIONS) as HandlerFunctionName[]).filter((n) =>
      FUNCTIONS[n].capabilities.some((c) => c === 'mail:send' || c === 'link-mail:send'),
    );
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).filter((f) => JSON.stringify(f.Properties).includes('MailFailures'));
    expect(filters.map((f) => f.Properties.LogGroupName)).toEqual(senders.map((n) => ({ Ref: logicalId(stack.handlers.constructsByName[n].logGroup) })));
  });

  it('backs the registry table up daily (35 days) and monthly (a year) into a vault under its own key', () => {
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          Match.objectLike({
            RuleName: 'Daily',
            ScheduleExpression: 'cron(0 3 * * ? *)',
            Lifecycle: { DeleteAfterDays: REGISTRY_BACKUP_RETENTION.daily.toDays() },
          }),
          Match.objectLike({
            RuleName: 'Monthly',
            ScheduleExpression: 'cron(0 4 1 * ? *)',
            Lifecycle: { DeleteAfterDays: REGISTRY_BACKUP_RETENTION.monthly.toDays() },
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::Backup::BackupSelection', {
      BackupSelection: Match.objectLike({ Resources: [arnOf(stack.registry.table)] }),
    });
    template.hasResource('AWS::Backup::BackupVault', {
      Properties: { EncryptionKeyArn: Match.anyValue(), BackupVaultName: Match.anyValue() },
      DeletionPolicy: 'RetainExceptOnCreate',
    });
  });

  it('keeps what it retains only after a successful create, except the deletion-protected table, its key and the account-level API Gateway role', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>;
    const retained = Object.entries(resources)
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .map(([id]) => id)
      .sort();
    const apiAccount = stack.api.restApi.node.findChild('Account').node.defaultChild ?? stack.api.restApi.node.findChild('Account');
    expect(retained).toEqual(
      [
        logicalId(stack.registry.table),
        logicalId(stack.registry.encryptionKey),
        logicalId(stack.api.restApi.node.findChild('CloudWatchRole')),
        logicalId(apiAccount),
      ].sort(),
    );
    const retainedExceptOnCreate = Object.values(resources).filter((r) => r.DeletionPolicy === 'RetainExceptOnCreate');
    expect(new Set(retainedExceptOnCreate.map((r) => r.Type))).toEqual(
      new Set(['AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::Backup::BackupVault', 'AWS::SecretsManager::Secret', 'Custom::GatehouseSigningKeyInit']),
    );
  });

  it('names no retained resource with a fixed name: a name it must have carries the deployment suffix, so a re-deploy after a delete does not collide', () => {
    const resources = template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }>;
    const named = new Set<string>();
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.DeletionPolicy === undefined || resource.DeletionPolicy === 'Delete') continue;
      for (const [key, value] of Object.entries(resource.Properties ?? {})) {
        if (!/Name$/.test(key)) continue;
        named.add(`${resource.Type} ${key}`);
        expect(JSON.stringify(value), `${id}.${key}`).toContain(JSON.stringify(DEPLOYMENT_SUFFIX));
      }
    }
    expect([...named].sort()).toEqual(['AWS::Backup::BackupVault BackupVaultName', 'AWS::Logs::LogGroup LogGroupName']);
  });
  it('is environment-agnostic (no account or region needed to synthesize)', () => {
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    expect(Token.isUnresolved(stack.account) && Token.isUnresolved(stack.region)).toBe(true);
  });

  it('encrypts every log group with the logs key and sends every function to one of them', () => {
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    // One per handler in FUNCTIONS + seeding function + rotation function + provider framework + two state machines + API
    // access logs + WAF logs.
    expect(logGroups).toHaveLength(Object.keys(FUNCTIONS).length + 7);
    for (const group of logGroups) expect(group.Properties.KmsKeyId).toEqual(arnOf(stack.logEncryptionKey.key));
    // Every Lambda writes to one of them (none falls back to an unencrypted /aws/lambda/* group).
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) expect(fn.Properties.LoggingConfig.LogGroup).toHaveProperty('Ref');
  });
});

describe('GatehouseStack under cdk-nag AwsSolutions, NIST 800-53 R5 and PCI DSS 3.2.1', () => {
  let app: App;
  let stack: GatehouseStack;

  beforeAll(() => {
    app = testApp();
    stack = new GatehouseStack(app, 'Gatehouse', defaultConfig());
  });

  it('has no unacknowledged errors or warnings in any of the three packs', () => {
    const reports = packs(app).map((pack) => pack.validateScope(stack));
    expect(
      reports.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((x) => x.constructPath).join(', ')}`)),
    ).toEqual([]);
    expect(reports.map((r) => r.success)).toEqual([true, true, true]);
  });

  it('has no unacknowledged findings when the stack creates the SES identity, takes context settings and leaves backups to the organisation', () => {
    const config = loadAppConfig(
      (key) =>
        ({
          createSesIdentity: 'true',
          registryBackup: 'false',
          reservedConcurrency: 'true',
          tokenReservedConcurrency: '150',
          alarmEmails: 'oncall@bank.example, risk@bank.example',
        })[key],
      PROJECT_ROOT,
    );
    const otherApp = testApp();
    const other = new GatehouseStack(otherApp, 'Gatehouse', config);
    expect(findings(otherApp, other)).toEqual([]);
    const otherTemplate = Template.fromStack(other);
    otherTemplate.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'bank.example' });
    otherTemplate.resourceCountIs('AWS::Backup::BackupPlan', 0);
    expect(
      other.registry.table.node.metadata.some(
        (m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && JSON.stringify(m.data).includes('DynamoDBInBackupPlan'),
      ),
    ).toBe(true);
    expect(otherTemplate.toJSON().Resources[logicalId(other.handlers.functions.token)].Properties.ReservedConcurrentExecutions).toBe(150);
    otherTemplate.resourceCountIs('AWS::SNS::Subscription', 2);
    otherTemplate.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@bank.example' });
  });

  it('synthesizes with the three packs registered as validation plugins, as bin/gatehouse.ts does', () => {
    Validations.of(app).addPlugins(...packs(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('reports a violation in an unacknowledged resource, in every pack (the checks are live)', () => {
    const controlApp = testApp();
    const control = new Stack(controlApp, 'Control');
    new dynamodb.Table(control, 'Bare', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    new sns.Topic(control, 'BareTopic');
    const [aws, nist, pci] = packs(controlApp);
    expect(aws!.validateScope(control).violations.map((v) => v.ruleName)).toContain('AwsSolutions-DDB3');
    expect(nist!.validateScope(control).violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['NIST.800.53.R5-DynamoDBInBackupPlan', 'NIST.800.53.R5-DynamoDBPITREnabled']),
    );
    expect(pci!.validateScope(control).violations.map((v) => v.ruleName)).toContain('PCI.DSS.321-SNSEncryptedKMS');
    Validations.of(controlApp).addPlugins(nist!);
    expect(() => controlApp.synth()).toThrow(/NIST\.800\.53\.R5-DynamoDBInBackupPlan/);
  });

  it('gives every acknowledgment a specific written reason and acknowledges no rule stack-wide', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^(Annotation::)?(AwsSolutions-[A-Z]+\d+|NIST\.800\.53\.R5-[A-Za-z0-9]+|PCI\.DSS\.321-[A-Za-z0-9]+)/);
      expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThanOrEqual(80);
      expect(ack.path).not.toBe(stack.node.path);
      // IAM5 is acknowledged per finding, never for every wildcard of a resource.
      if (ack.id.includes('AwsSolutions-IAM5')) expect(ack.id).toMatch(/IAM5\[(Resource|Action)::.+\]$/);
    }
    const ruleIds = new Set(acks.map((a) => a.id.replace(/^Annotation::/i, '').replace(/\[.*$/, '')));
    expect([...ruleIds].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      // Only on the public-key mirror of the signing key (lib/signing-key.ts): public data, rewritten by the key's rotation.
      'AwsSolutions-SMG4',
      'AwsSolutions-SQS3',
      'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted',
      'NIST.800.53.R5-APIGWSSLEnabled',
      'NIST.800.53.R5-LambdaConcurrency',
      'NIST.800.53.R5-LambdaDLQ',
      'NIST.800.53.R5-LambdaInsideVPC',
      'NIST.800.53.R5-SecretsManagerRotationEnabled',
      'PCI.DSS.321-APIGWCacheEnabledAndEncrypted',
      'PCI.DSS.321-APIGWSSLEnabled',
      'PCI.DSS.321-LambdaInsideVPC',
      'PCI.DSS.321-SecretsManagerRotationEnabled',
    ]);
  });

  it('acknowledges the VPC rules on every function and the DLQ rule on every function but the scheduled sweep, which has a real one', () => {
    const functions = stack.node.findAll().filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction);
    expect(functions).toHaveLength(Object.keys(FUNCTIONS).length + 3);
    const idsFor = (fn: lambda.CfnFunction) =>
      new Set(
        acknowledgments(stack)
          .filter((a) => fn.node.path.startsWith(`${a.path}/`))
          .map((a) => a.id.replace(/^Annotation::/i, '')),
      );
    for (const fn of functions) {
      const ids = idsFor(fn);
      expect(ids.has('NIST.800.53.R5-LambdaInsideVPC') && ids.has('PCI.DSS.321-LambdaInsideVPC'), fn.node.path).toBe(true);
      expect(ids.has('NIST.800.53.R5-LambdaDLQ'), fn.node.path).toBe(fn !== stack.handlers.functions.sweep.node.defaultChild);
    }
  });
});

describe('GatehouseStack stages', () => {
  /** Names that must be unique in an account and region: named resources, exports, the client-secret prefix, the metric namespace. */
  function accountWideNames(template: Template): string[] {
    const json = template.toJSON() as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
    };
    const names: string[] = [];
    for (const resource of Object.values(json.Resources)) {
      const props = resource.Properties ?? {};
      for (const key of [
        'LogGroupName',
        'BackupVaultName',
        'Name',
        'DashboardName',
        'TopicName',
        'TableName',
        'StateMachineName',
        'RoleName',
        'QueueName',
        'AlarmName',
      ]) {
        // A reference names another resource of the same template, which is checked where it is defined.
        if (props[key] !== undefined && !JSON.stringify(props[key]).startsWith('{"Ref"') && resource.Type !== 'AWS::ApiGateway::RestApi')
          names.push(JSON.stringify(props[key]));
      }
      const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      if (variables?.POWERTOOLS_METRICS_NAMESPACE !== undefined) names.push(JSON.stringify(variables.POWERTOOLS_METRICS_NAMESPACE));
    }
    for (const output of Object.values(json.Outputs ?? {})) if (output.Export) names.push(JSON.stringify(output.Export.Name));
    names.push(JSON.stringify(json.Outputs?.ClientSecretPrefix?.Value));
    return [...new Set(names)];
  }

  it('names the stack Gatehouse-<stage> from the stage context value, and Gatehouse without one', () => {
    expect(loadStackName(() => undefined)).toBe('Gatehouse');
    expect(loadStackName((key) => ({ stage: 'staging' })[key])).toBe('Gatehouse-staging');
    expect(() => loadStackName((key) => ({ stage: 'staging/eu' })[key])).toThrow(/stage: /);
  });

  it('synthesizes two stages side by side in one app, sharing no name, prefix or namespace, with one owner of the API Gateway account role', () => {
    const app = testApp();
    const [staging, production] = (['staging', 'production'] as const).map((stage) => {
      const config = loadAppConfig((key) => ({ stage, manageApiGatewayAccount: stage === 'production' ? 'true' : 'false' })[key], PROJECT_ROOT);
      return new GatehouseStack(
        app,
        loadStackName((key) => ({ stage })[key]),
        config,
      );
    });
    expect(() => app.synth()).not.toThrow();
    const [stagingTemplate, productionTemplate] = [Template.fromStack(staging!), Template.fromStack(production!)];
    const [stagingNames, productionNames] = [accountWideNames(stagingTemplate), accountWideNames(productionTemplate)];
    expect(stagingNames.length).toBeGreaterThanOrEqual(5);
    expect(stagingNames.filter((name) => productionNames.includes(name))).toEqual([]);
    stagingTemplate.hasOutput('ClientSecretPrefix', { Value: 'gatehouse/Gatehouse-staging/clients/' });
    productionTemplate.hasOutput('ClientSecretPrefix', { Value: 'gatehouse/Gatehouse-production/clients/' });
    stagingTemplate.resourceCountIs('AWS::ApiGateway::Account', 0);
    productionTemplate.resourceCountIs('AWS::ApiGateway::Account', 1);
  });
});
