import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAppConfig } from '../../lib/app-config.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { LifecycleSweep, sweepRuleName, type LifecycleSweepProps } from '../../lib/lifecycle-sweep.js';
import { arnOf, logicalId, statementsOfRole, synthGatehouse, testApp } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
type PolicyStatement = { Effect: string; Action: string | string[]; Principal?: unknown; Condition?: unknown; Resource?: unknown };

/** `arn:<partition>:events:<region>:<account>:rule/<name>` as the template spells it. */
const ruleArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:rule/${name}`]],
});

/** A LifecycleSweep alone in a stack, with a stand-in sweep function. */
function sweepAlone(props: Partial<LifecycleSweepProps> = {}): { stack: Stack; construct: LifecycleSweep; template: () => Template } {
  const stack = new Stack(testApp(), 'Alone');
  const sweepFunction = new lambda.Function(stack, 'Sweep', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('x'),
  });
  const construct = new LifecycleSweep(stack, 'LifecycleSweep', { sweepFunction, ...props });
  return { stack, construct, template: () => Template.fromStack(stack) };
}

describe('LifecycleSweep in the Gatehouse stack', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
  });

  const sweepFunction = () => stack.handlers.functions.sweep;
  const properties = (construct: Parameters<typeof logicalId>[0]) => resources[logicalId(construct)]!.Properties;

  it('runs the sweep every 60 minutes by default, from a rule named after the stack', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    expect(properties(stack.lifecycleSweep.rule)).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Name: sweepRuleName('Gatehouse', 'Gatehouse/LifecycleSweep'),
    });
    expect(sweepRuleName('Gatehouse', 'Gatehouse/LifecycleSweep')).toMatch(/^Gatehouse-lifecycle-sweep-[0-9a-f]{8}$/);
  });

  it('targets exactly the sweep function, with a bounded retry policy and the dead-letter queue', () => {
    expect(properties(stack.lifecycleSweep.rule).Targets).toEqual([
      {
        Id: 'Target0',
        Arn: arnOf(sweepFunction()),
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
        DeadLetterConfig: { Arn: arnOf(stack.lifecycleSweep.deadLetterQueue) },
      },
    ]);
  });

  it('lets EventBridge invoke the sweep function for this rule only, and no other function', () => {
    const fromEvents = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties.Principal === 'events.amazonaws.com');
    expect(fromEvents.map((p) => p.Properties)).toEqual([
      { Action: 'lambda:InvokeFunction', FunctionName: arnOf(sweepFunction()), Principal: 'events.amazonaws.com', SourceArn: arnOf(stack.lifecycleSweep.rule) },
    ]);
  });

  it('builds the sweep function from its FUNCTIONS entry (two concurrent runs when reserved concurrency is on) and wires it to no route', () => {
    const fn = properties(sweepFunction());
    expect(fn).toMatchObject({ MemorySize: 512, Timeout: 300, Runtime: 'nodejs24.x' });
    // Safe to run concurrently with itself (conditional, audited transitions); the spec's cap applies only with the stack's
    // reservedConcurrency on (off by default).
    expect(fn).not.toHaveProperty('ReservedConcurrentExecutions');
    const permissions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName) === JSON.stringify(arnOf(sweepFunction())),
    );
    expect(permissions.map((p) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
  });

  it("sends runs that failed Lambda's asynchronous retries to the same dead-letter queue, within one interval", () => {
    expect(properties(sweepFunction()).DeadLetterConfig).toEqual({ TargetArn: arnOf(stack.lifecycleSweep.deadLetterQueue) });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(sweepFunction()) }, MaximumEventAgeInSeconds: 3600 });
    // Lambda sends with the function's role: SendMessage on that queue, and the queue key to encrypt.
    const statements = statementsOfRole(template, logicalId(stack.handlers.constructsByName.sweep.role));
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(stack.lifecycleSweep.deadLetterQueue) });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: arnOf(stack.lifecycleSweep.encryptionKey) });
  });

  it('lets the sweep list secrets (to find orphans) and delete client secrets, but neither rotate them nor invoke the rotation function', () => {
    const statements = statementsOfRole(template, logicalId(stack.handlers.constructsByName.sweep.role));
    // It reads the signing key, and nothing else, to sign attestation links.
    const signingKey = JSON.stringify({ Ref: logicalId(stack.signingKey.secret) });
    expect(statements.filter((s) => JSON.stringify(s.Resource) === signingKey).flatMap((s) => [s.Action].flat())).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    const actions = statements.filter((s) => JSON.stringify(s.Resource) !== signingKey).flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('secretsmanager:')).sort()).toEqual(['secretsmanager:DeleteSecret', 'secretsmanager:ListSecrets']);
    expect(actions).not.toContain('lambda:InvokeFunction');
  });

  it('lets the sweep query the attention index, and no other index (only listDue reads it)', () => {
    const statements = statementsOfRole(template, logicalId(stack.handlers.constructsByName.sweep.role));
    const query = statements.filter((s) => [s.Action].flat().includes('dynamodb:Query'));
    expect(query.map((s) => s.Resource)).toEqual([arnOf(stack.registry.table), { 'Fn::Join': ['', [arnOf(stack.registry.table), '/index/attention']] }]);
    expect(query.map((s) => s.Action)).toEqual([
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
      'dynamodb:Query',
    ]);
  });

  it('encrypts the dead-letter queue with its own rotating key, requires TLS and keeps messages 14 days', () => {
    expect(properties(stack.lifecycleSweep.deadLetterQueue)).toEqual({
      KmsMasterKeyId: arnOf(stack.lifecycleSweep.encryptionKey),
      MessageRetentionPeriod: 1_209_600,
    });
    expect(properties(stack.lifecycleSweep.encryptionKey)).toMatchObject({ EnableKeyRotation: true });
    const queuePolicy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: logicalId(stack.lifecycleSweep.deadLetterQueue) }]),
    )!;
    const statements = (queuePolicy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    // Only this rule may send to it.
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': arnOf(stack.lifecycleSweep.rule) } },
      }),
    ]);
  });

  it('lets EventBridge use the queue key only to encrypt for this rule, in this account', () => {
    const keyPolicy = properties(stack.lifecycleSweep.encryptionKey).KeyPolicy as { Statement: PolicyStatement[] };
    const forEvents = keyPolicy.Statement.filter((s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }));
    expect(forEvents).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnEquals: { 'aws:SourceArn': ruleArn(sweepRuleName('Gatehouse', 'Gatehouse/LifecycleSweep')) },
        },
      },
    ]);
    // Any other statement is the account's administrative default, not a grant to a function.
    for (const s of keyPolicy.Statement.filter((s) => !forEvents.includes(s))) expect(JSON.stringify(s.Principal)).toContain(':root');
  });

  it('raises an alarm when a sweep run fails: one Errors datapoint of the sweep function in 5 minutes', () => {
    expect(properties(stack.lifecycleSweep.errorsAlarm)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(sweepFunction()) } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('raises an alarm when a message is visible in the dead-letter queue', () => {
    expect(properties(stack.lifecycleSweep.deadLetterAlarm)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.lifecycleSweep.deadLetterQueue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(properties(stack.lifecycleSweep.deadLetterAlarm).AlarmActions).toEqual([{ Ref: logicalId(stack.alarmTopic) }]);
  });

  it('outputs both alarm names', () => {
    template.hasOutput('SweepAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.errorsAlarm) } });
    template.hasOutput('SweepDeadLetterAlarmName', { Value: { Ref: logicalId(stack.lifecycleSweep.deadLetterAlarm) } });
  });

  it('acknowledges SQS3 on the dead-letter queue only (a DLQ needs no DLQ) and leaves no cdk-nag finding', () => {
    const acknowledgedOn = stack.node
      .findAll()
      .filter((c) =>
        c.node.metadata.some(
          (m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && Object.keys(m.data as object).some((id) => id.includes('AwsSolutions-SQS')),
        ),
      );
    expect(acknowledgedOn.map((c) => c.node.path)).toEqual(['Gatehouse/LifecycleSweep/DeadLetterQueue']);
    const reasons = acknowledgedOn[0]!.node.metadata.flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(reasons.map(([id]) => id.replace(/^Annotation::/i, ''))).toEqual(['AwsSolutions-SQS3']);
    expect(reasons[0]![1]).toMatch(/dead-letter queue needs no dead-letter queue/);
    expect(new AwsSolutionsChecks(stack.node.root, { verbose: true }).validateScope(stack.lifecycleSweep).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('LifecycleSweep settings', () => {
  it('runs on the sweepIntervalMinutes context, and retries for at most one interval', () => {
    const config = loadAppConfig((key) => ({ sweepIntervalMinutes: '15' })[key], PROJECT_ROOT);
    const stack = new GatehouseStack(testApp(), 'Gatehouse', config);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [{ Arn: arnOf(stack.handlers.functions.sweep), RetryPolicy: { MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 3 } }],
    });
  });

  it('takes the interval, the retry policy and an alarm topic as props, notifying the topic on alarm and recovery', () => {
    const stack = new Stack(testApp(), 'WithTopic');
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    const sweepFunction = lambda.Function.fromFunctionName(stack, 'Sweep', 'sweep');
    const sweep = new LifecycleSweep(stack, 'LifecycleSweep', {
      sweepFunction,
      interval: Duration.minutes(5),
      maxEventAge: Duration.minutes(2),
      retryAttempts: 0,
      alarmTopic: topic,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [{ RetryPolicy: { MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 0 } }],
    });
    for (const alarm of [sweep.errorsAlarm, sweep.deadLetterAlarm]) {
      expect(template.toJSON().Resources[logicalId(alarm)].Properties).toMatchObject({
        AlarmActions: [{ Ref: logicalId(topic) }],
        OKActions: [{ Ref: logicalId(topic) }],
      });
    }
  });

  it("leaves an imported function's dead-letter configuration to its own stack", () => {
    const stack = new Stack(testApp(), 'Imported');
    new LifecycleSweep(stack, 'LifecycleSweep', { sweepFunction: lambda.Function.fromFunctionName(stack, 'Sweep', 'sweep') });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    const { template: own } = sweepAlone();
    own().hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LifecycleSweepDeadLetterQueue'), 'Arn'] } },
    });
  });

  it("bounds Lambda's own retries of a run by the event age, at most the 6 hours Lambda allows", () => {
    sweepAlone({ interval: Duration.minutes(1440) })
      .template()
      .hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 21_600 });
    sweepAlone({ interval: Duration.minutes(30) })
      .template()
      .hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 1800 });
  });

  it('gives two sweeps in one stack different rule names', () => {
    const { stack, construct } = sweepAlone();
    const second = new LifecycleSweep(stack, 'Second', { sweepFunction: lambda.Function.fromFunctionName(stack, 'Other', 'other') });
    const names = [construct.rule, second.rule].map((r) => (r.node.defaultChild as { name?: string }).name);
    expect(new Set(names).size).toBe(2);
  });

  it.each([
    ['an interval under 5 minutes', { interval: Duration.minutes(4) }, /interval must be a whole number of minutes from 5 to 1440, got 4/],
    ['an interval over a day', { interval: Duration.minutes(1441) }, /interval must be a whole number of minutes from 5 to 1440, got 1441/],
    ['an interval that is not whole minutes', { interval: Duration.seconds(390) }, /interval must be a whole number of minutes from 5 to 1440, got 6\.5/],
    ['a maximum event age under a minute', { maxEventAge: Duration.seconds(59) }, /maxEventAge must be a whole number of seconds from 60 to 86400, got 59/],
    ['a maximum event age over a day', { interval: Duration.minutes(60), maxEventAge: Duration.hours(25) }, /maxEventAge must be .* got 90000/],
    ['more retries than EventBridge allows', { retryAttempts: 186 }, /retryAttempts must be a whole number from 0 to 185, got 186/],
    ['a negative number of retries', { retryAttempts: -1 }, /retryAttempts must be a whole number from 0 to 185, got -1/],
  ])('refuses %s', (_what, props, message) => {
    expect(() => sweepAlone(props)).toThrow(message);
  });

  it('names the rule after the stack, cutting a long stack name and keeping it unique with a hash', () => {
    const long = `Gatehouse-${'x'.repeat(100)}`;
    const name = sweepRuleName(long, 'Gatehouse/LifecycleSweep');
    expect(name).toHaveLength(64);
    expect(name).toMatch(/^Gatehouse-x+-lifecycle-sweep-[0-9a-f]{8}$/);
    expect(sweepRuleName(`${long}y`, 'Gatehouse/LifecycleSweep')).not.toBe(name);
  });
});
