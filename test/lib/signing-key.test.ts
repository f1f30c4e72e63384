import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { loadAppConfig } from '../../lib/app-config.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { SIGNING_KEY_INIT, SIGNING_KEY_ROTATION } from '../../lambdas/contracts/functions.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { SIGNING_KEY_AUDIT_PARTITION } from '../../lib/registry-table.js';
import { KEY_OVERLAP_ENV, KEY_PUBLISH_DELAY_ENV, previousKeyOverlap, SigningKey, type SigningKeyProps } from '../../lib/signing-key.js';
import { actionsOfRole, arnOf, defaultConfig, logicalId, sortedActions, statementsOfRole, synthGatehouse, testApp } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] }>;
type KeyStatement = { Action: string | string[]; Principal?: { AWS?: unknown }; Condition?: unknown };

/** The exact calls the rotation protocol makes (lambdas/adapters/aws/secrets-staged-secret.ts). */
const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];
/** What `table:append-system-audit` allows on the table (its audit stream's head, and the next event). */
const TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:Query'];
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];
const VIA_SECRETS_MANAGER = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } };

/** The logical ids of the roles a key policy statement names. */
function principalRoles(statement: KeyStatement): string[] {
  return [statement.Principal?.AWS].flat().map((p) => (p as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0] ?? JSON.stringify(p));
}

/** A stand-in registry table. */
function table(stack: Stack): dynamodb.Table {
  return new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
}

/** A SigningKey alone in a stack, for the construct's own props. */
function signingKeyAlone(props: Partial<SigningKeyProps> = {}): { construct: SigningKey; template: Template } {
  const stack = new Stack(testApp(), 'Alone');
  const construct = new SigningKey(stack, 'SigningKey', {
    policy: defaultConfig().policy,
    logEncryptionKey: new kms.Key(stack, 'Logs'),
    table: table(stack),
    ...props,
  });
  return { construct, template: Template.fromStack(stack) };
}

/** PutSecretValue is the one action on both secrets (the key set and its public mirror); every other only on the key set. */
const resourcesOf = (stack: GatehouseStack) => (action: string | string[]) =>
  action === 'secretsmanager:PutSecretValue'
    ? [{ Ref: logicalId(stack.signingKey.publicSecret) }, { Ref: logicalId(stack.signingKey.secret) }]
    : { Ref: logicalId(stack.signingKey.secret) };

describe('SigningKey', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
  });

  it('stores the key set in one secret, encrypted with its own rotating customer-managed key and retained', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const secret = resources[logicalId(stack.signingKey.secret)]!;
    expect(secret.Properties).toMatchObject({ KmsKeyId: arnOf(stack.signingKey.encryptionKey), GenerateSecretString: expect.any(Object) });
    expect(secret.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(resources[logicalId(stack.signingKey.encryptionKey)]!.Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it('mirrors the public halves into a second secret under the same key, rebuilt by the seeding and so not retained', () => {
    const publicSecret = resources[logicalId(stack.signingKey.publicSecret)]!;
    expect(publicSecret.Properties).toMatchObject({ KmsKeyId: arnOf(stack.signingKey.encryptionKey) });
    expect(publicSecret.DeletionPolicy).toBe('Delete');
    expect(resources[logicalId(stack.signingKey.rotationFunction.function)]!.Properties).toMatchObject({
      Environment: { Variables: { [ENV.publicKeysSecretId]: { Ref: logicalId(stack.signingKey.publicSecret) } } },
    });
  });

  it('seeds the first key with a custom resource that receives the secret id and the public-key secret id', () => {
    template.resourceCountIs('Custom::GatehouseSigningKeyInit', 1);
    template.hasResourceProperties('Custom::GatehouseSigningKeyInit', {
      SecretId: { Ref: logicalId(stack.signingKey.secret) },
      PublicSecretId: { Ref: logicalId(stack.signingKey.publicSecret) },
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SigningKeyProviderframeworkonEvent'), 'Arn'] },
    });
  });

  it('runs the seeding in the SIGNING_KEY_INIT function behind the custom-resource provider', () => {
    expect(resources[logicalId(stack.signingKey.initFunction.function)]!.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: SIGNING_KEY_INIT.memorySize,
      Timeout: SIGNING_KEY_INIT.timeoutSeconds,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: arnOf(stack.signingKey.initFunction.function) } },
    });
  });

  it('lets the seeding function only read, describe and put values of that secret, and put values of the public one', () => {
    const statements = sortedActions(statementsOfRole(template, logicalId(stack.signingKey.initFunction.role)));
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    const secretActions = secretStatements.flatMap((s) => [s.Action].flat()).sort();
    expect(secretActions).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    for (const s of secretStatements) expect(s.Resource).toEqual(resourcesOf(stack)(s.Action));
    expect([...new Set(actionsOfRole(template, logicalId(stack.signingKey.initFunction.role)))].sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments', ...secretActions].sort(),
    );
  });

  it('lets only the seeding and rotation functions generate data keys with the secret key, and only through Secrets Manager', () => {
    const keyPolicy = resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy as { Statement: KeyStatement[] };
    const generate = keyPolicy.Statement.filter((s) => s.Action === 'kms:GenerateDataKey');
    expect(generate).toHaveLength(1);
    expect(principalRoles(generate[0]!).sort()).toEqual(
      [logicalId(stack.signingKey.initFunction.role), logicalId(stack.signingKey.rotationFunction.role)].sort(),
    );
    expect(generate[0]!.Condition).toEqual(VIA_SECRETS_MANAGER);
  });

  it('rotates the secret with the rotation function on the default 30-day schedule, not on creation', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    expect(resources[logicalId(stack.signingKey.rotationSchedule)]!.Properties).toEqual({
      SecretId: { Ref: logicalId(stack.signingKey.secret) },
      RotationLambdaARN: arnOf(stack.signingKey.rotationFunction.function),
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
  });

  it('creates the rotation schedule only after the seeding, the invoke permission and the rotation grants', () => {
    const dependsOn = resources[logicalId(stack.signingKey.rotationSchedule)]!.DependsOn ?? [];
    const permission = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Permission' &&
        r.Properties.Principal === 'secretsmanager.amazonaws.com' &&
        JSON.stringify(r.Properties.FunctionName) === JSON.stringify(arnOf(stack.signingKey.rotationFunction.function)),
    )![0];
    const rotationPolicy = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::IAM::ManagedPolicy' &&
        JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: logicalId(stack.signingKey.rotationFunction.role) }]),
    )![0];
    expect(dependsOn).toEqual(expect.arrayContaining([logicalId(stack.signingKey.initResource), permission, rotationPolicy]));
  });

  it("runs the rotation in the SIGNING_KEY_ROTATION function with the publish delay and the policy's overlap in its environment", () => {
    expect(resources[logicalId(stack.signingKey.rotationFunction.function)]!.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: SIGNING_KEY_ROTATION.memorySize,
      Timeout: SIGNING_KEY_ROTATION.timeoutSeconds,
      // The committed policy's longest access-token lifetime is 1 h: the previous key stays 1 h + 5 min.
      Environment: { Variables: { [KEY_PUBLISH_DELAY_ENV]: '900', [KEY_OVERLAP_ENV]: '3900' } },
    });
    expect(previousKeyOverlap(defaultConfig().policy).toSeconds()).toBe(3900);
    expect(SIGNING_KEY_ROTATION).toMatchObject({ entry: 'lambdas/functions/signing-key-rotation.ts', memorySize: 256, timeoutSeconds: 30 });
  });

  it('lets the rotation function only describe, read, put and restage versions of that secret (put also on the public one), and append to its audit stream', () => {
    const roleId = logicalId(stack.signingKey.rotationFunction.role);
    const secretStatements = statementsOfRole(template, roleId).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements.flatMap((s) => [s.Action].flat()).sort()).toEqual(ROTATION_ACTIONS);
    for (const s of secretStatements) {
      expect(s.Resource).toEqual(resourcesOf(stack)(s.Action));
      expect(s.Condition).toBeUndefined();
    }
    // Nothing else: no secretsmanager:GetRandomPassword (the key is generated by jose), no "*" beyond X-Ray.
    expect([...new Set(actionsOfRole(template, roleId))].sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
        ...ROTATION_ACTIONS,
        ...TABLE_ACTIONS,
        ...TABLE_KEY_ACTIONS,
      ].sort(),
    );
  });

  it('lets the rotation function Query and PutItem only the SYSTEM#signing-key partition of the table itself, and use its key', () => {
    const roleId = logicalId(stack.signingKey.rotationFunction.role);
    const statements = statementsOfRole(template, roleId);
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    // Query (the stream head) and PutItem (the next event) are all the audit needs: no index, no other partition.
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:Query'],
        Resource: arnOf(stack.registry.table),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['SYSTEM#signing-key'] } },
      },
    ]);
    expect(SIGNING_KEY_AUDIT_PARTITION).toBe('SYSTEM#signing-key');
    const kmsStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    expect(kmsStatements.map((s) => s.Resource)).toEqual([arnOf(stack.registry.encryptionKey)]);
    expect(SIGNING_KEY_ROTATION.capabilities).toEqual(['signing-key:read', 'signing-key:write', 'signing-key:rotate', 'table:append-system-audit']);
  });

  it('tells the rotation function the registry table name, and the seeding function none', () => {
    const variables = (fn: IConstruct) => (resources[logicalId(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables(stack.signingKey.rotationFunction.function)[ENV.tableName]).toEqual({ Ref: logicalId(stack.registry.table) });
    expect(variables(stack.signingKey.initFunction.function)).not.toHaveProperty(ENV.tableName);
  });

  it('gives the seeding function no table access', () => {
    const actions = actionsOfRole(template, logicalId(stack.signingKey.initFunction.role));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('lets the rotation function use the secret key only to decrypt and generate data keys, through Secrets Manager', () => {
    const keyPolicy = resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy as { Statement: KeyStatement[] };
    const rotationRole = logicalId(stack.signingKey.rotationFunction.role);
    const granted = keyPolicy.Statement.filter((s) => principalRoles(s).includes(rotationRole));
    expect(granted.flatMap((s) => [s.Action].flat()).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    for (const s of granted) expect(s.Condition).toEqual(VIA_SECRETS_MANAGER);
  });

  it('lets Secrets Manager invoke the rotation function for this secret, from this account, and nothing else invoke it', () => {
    const permissions = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName) === JSON.stringify(arnOf(stack.signingKey.rotationFunction.function)),
    );
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: arnOf(stack.signingKey.rotationFunction.function),
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        SourceArn: { Ref: logicalId(stack.signingKey.secret) },
      },
    ]);
  });

  it('raises an alarm when a rotation step fails: one Errors datapoint in 5 minutes, missing data not breaching, to the alarm topic', () => {
    expect(resources[logicalId(stack.signingKey.rotationAlarm)]!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.signingKey.rotationFunction.function) } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const topic = { Ref: logicalId(stack.alarmTopic) };
    expect(resources[logicalId(stack.signingKey.rotationAlarm)]!.Properties).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
  });

  it('keeps the secret from being deleted by anyone in the account once it rotates', () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: { Ref: logicalId(stack.signingKey.secret) },
      ResourcePolicy: { Statement: [Match.objectLike({ Effect: 'Deny', Action: 'secretsmanager:DeleteSecret' })] },
    });
  });

  it('acknowledges AwsSolutions-SMG4 only on the public-key mirror: the rotation schedule satisfies it for the key secret', () => {
    const acknowledging = stack.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && Object.keys(m.data as Record<string, string>).some((id) => id.includes('SMG4')),
        ),
      );
    expect(acknowledging.map((c) => c.node.path)).toEqual([stack.signingKey.publicSecret.node.path]);
    const report = new AwsSolutionsChecks(stack.node.root, { verbose: true }).validateScope(stack.signingKey);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('gives the provider framework its own role that only invokes the seeding function and writes its logs', () => {
    const providerFn = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'framework.onEvent')!;
    const roleId = (providerFn[1].Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    // Its 2 reserved executions apply only with the stack's reservedConcurrency on (off by default).
    expect(providerFn[1].Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    const actions = [...new Set(actionsOfRole(template, roleId))].sort();
    expect(actions).toEqual(['lambda:GetFunction', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it('grants no update or deletion of the signing secret to any role', () => {
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement);
    const all = statements.flatMap((s) => [s.Action].flat());
    for (const forbidden of ['secretsmanager:UpdateSecret', 'secretsmanager:PutResourcePolicy', 'secretsmanager:*']) expect(all).not.toContain(forbidden);
    // DeleteSecret exists only for client secrets (a function issuing one removes it when it could not be recorded; admin
    // and the sweep remove a revoked consumer's), confined to their prefix.
    const deleting = statements.filter((s) => [s.Action].flat().includes('secretsmanager:DeleteSecret'));
    expect(deleting.length).toBeGreaterThan(0);
    for (const s of deleting) expect(s.Resource).toEqual(stack.resolve(stack.clientSecrets.secretArnPattern));
    expect(JSON.stringify(deleting)).not.toContain(logicalId(stack.signingKey.secret));
  });
});

describe('SigningKey rotation settings', () => {
  it('rotates on the signingKeyRotationDays context and publishes for signingKeyPublishDelaySeconds', () => {
    const config = loadAppConfig((key) => ({ signingKeyRotationDays: '90', signingKeyPublishDelaySeconds: '60' })[key], PROJECT_ROOT);
    const stack = new GatehouseStack(testApp(), 'Gatehouse', config);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(90 days)' } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [KEY_PUBLISH_DELAY_ENV]: '60' }) },
      Description: Match.stringLikeRegexp('rotates the token-signing key'),
    });
  });

  it('takes the interval, the publish delay and an alarm topic as props, notifying the topic on alarm and recovery', () => {
    const { template } = signingKeyAlone({ rotationInterval: Duration.days(7), publishDelay: Duration.minutes(5) });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ [KEY_PUBLISH_DELAY_ENV]: '300' }) } });

    const stack = new Stack(testApp(), 'WithTopic');
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    new SigningKey(stack, 'SigningKey', {
      policy: defaultConfig().policy,
      logEncryptionKey: new kms.Key(stack, 'Logs'),
      table: table(stack),
      alarmTopic: topic,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmActions: [{ Ref: logicalId(topic) }],
      OKActions: [{ Ref: logicalId(topic) }],
    });
  });

  it("grants the rotation function table access from its spec's capabilities only", () => {
    const { construct, template } = signingKeyAlone({
      rotationFunction: { ...SIGNING_KEY_ROTATION, capabilities: ['signing-key:read', 'signing-key:write', 'signing-key:rotate'] },
    });
    const roleId = logicalId(construct.rotationFunction.role);
    expect(actionsOfRole(template, roleId).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
    const fn = template.toJSON().Resources[logicalId(construct.rotationFunction.function)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Environment.Variables).not.toHaveProperty(ENV.tableName);
  });

  it.each([
    [
      'longer than a day',
      { publishDelay: Duration.seconds(86_401), rotationInterval: Duration.days(30) },
      /publishDelay must be a whole number of seconds from 0 to 86400, got 86401/,
    ],
    ['not whole seconds', { publishDelay: Duration.millis(1500) }, /publishDelay must be a whole number of seconds .* got 1\.5/],
    [
      "that, with the policy's overlap, does not fit in the rotation interval",
      { publishDelay: Duration.hours(23), rotationInterval: Duration.days(1) },
      /rotationInterval \(1 day\) must exceed publishDelay \(82800 s\) plus the policy's previous-key overlap \(3900 s\)/,
    ],
  ])('refuses a publish delay %s', (_what, props, message) => {
    expect(() => signingKeyAlone(props)).toThrow(message);
  });

  it("refuses a rotation interval within the policy's longest review SLA, which would end review links still open", () => {
    expect(() => signingKeyAlone({ rotationInterval: Duration.days(3), publishDelay: Duration.minutes(5) })).toThrow(
      /rotationInterval \(3 days\) must exceed publishDelay plus the policy's longest review SLA \+ 5 min \(259500 s\)/,
    );
  });
});
