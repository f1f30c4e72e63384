import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  API_5XX_THRESHOLD,
  OperationalAlarms,
  SES_BOUNCE_RATE_THRESHOLD,
  SES_FAILURE_ERRORS,
  type OperationalAlarmsProps,
} from '../../lib/operational-alarms.js';
import { logicalId, testApp } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type MetricQuery = { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown[] } } };

/** OperationalAlarms over stand-ins: three functions (one mail sender, one alarmed elsewhere), a table, a state machine, an API. */
function alarmsAlone(overrides: Partial<OperationalAlarmsProps> = {}): {
  stack: Stack;
  alarms: OperationalAlarms;
  topic: sns.Topic;
  table: dynamodb.Table;
  fns: Record<string, lambda.Function>;
} {
  const stack = new Stack(testApp(), 'Watched');
  const fns: Record<string, lambda.Function> = {};
  const functions: Record<string, OperationalAlarmsProps['functions'][string]> = {};
  for (const name of ['token', 'review-task', 'sweep']) {
    const logGroup = new logs.LogGroup(stack, `${name}Logs`);
    fns[name] = new lambda.Function(stack, name, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('x'),
      logGroup,
    });
    functions[name] = { function: fns[name], logGroup };
  }
  const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const api = new apigateway.RestApi(stack, 'Api', { cloudWatchRole: false });
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const topic = new sns.Topic(stack, 'Topic');
  const alarms = new OperationalAlarms(stack, 'Alarms', {
    alarmTopic: topic,
    functions,
    errorsAlarmedElsewhere: ['sweep'],
    mailSenders: ['review-task', 'sweep'],
    table,
    tableIndexes: ['attention'],
    stateMachine: new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) }),
    noticeStateMachine: new sfn.StateMachine(stack, 'Notices', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Send')) }),
    restApi: api,
    ...overrides,
  });
  return { stack, alarms, topic, table, fns };
}

describe('OperationalAlarms', () => {
  let built: ReturnType<typeof alarmsAlone>;
  let resources: Resources;

  beforeAll(() => {
    built = alarmsAlone();
    resources = Template.fromStack(built.stack).toJSON().Resources as Resources;
  });

  const alarm = (construct: Parameters<typeof logicalId>[0]) => resources[logicalId(construct)]!.Properties;
  const queries = (construct: Parameters<typeof logicalId>[0]) => alarm(construct).Metrics as MetricQuery[];
  const metricNames = (construct: Parameters<typeof logicalId>[0]) =>
    queries(construct)
      .filter((q) => q.MetricStat)
      .map((q) => `${q.MetricStat!.Metric.Namespace} ${q.MetricStat!.Metric.MetricName}`);

  it('tells the topic when every alarm fires and when it clears, on the first occurrence in five minutes', () => {
    const all = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    // 3 functions + mail failures + bounce rate + table throttles + table system errors + workflow + notices + API 5xx.
    expect(all).toHaveLength(10);
    for (const a of all) {
      expect(a.Properties).toMatchObject({
        AlarmActions: [{ Ref: logicalId(built.topic) }],
        OKActions: [{ Ref: logicalId(built.topic) }],
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it("raises a function's fault alarm on an error, a throttle or an ERROR log line, missing data counting as zero", () => {
    const token = built.alarms.functionFaults.token!;
    expect(alarm(token).Threshold).toBe(1);
    expect(queries(token).find((q) => q.Expression)!.Expression).toBe('FILL(t, 0) + FILL(l, 0) + FILL(e, 0)');
    expect(metricNames(token).sort()).toEqual(['AWS/Lambda Errors', 'AWS/Lambda Throttles', 'Gatehouse/Watched LoggedErrors-Token']);
    const filter = Object.values(resources).find((r) => r.Type === 'AWS::Logs::MetricFilter' && JSON.stringify(r.Properties).includes('LoggedErrors-Token'))!;
    expect(filter.Properties).toMatchObject({ FilterPattern: '{ $.level = "ERROR" }', LogGroupName: { Ref: logicalId(built.fns.token!.logGroup) } });
  });

  it('leaves Lambda errors out of the fault alarm of a function whose errors have an alarm already', () => {
    expect(metricNames(built.alarms.functionFaults.sweep!).sort()).toEqual(['AWS/Lambda Throttles', 'Gatehouse/Watched LoggedErrors-Sweep']);
  });

  it("counts SES sending failures from the mail senders' logs, logged or thrown", () => {
    expect(alarm(built.alarms.mailFailures).Metrics).toBeUndefined();
    expect(alarm(built.alarms.mailFailures)).toMatchObject({ Namespace: 'Gatehouse/Watched', MetricName: 'MailFailures', Statistic: 'Sum', Threshold: 1 });
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter' && JSON.stringify(r.Properties).includes('MailFailures'));
    expect(filters.map((f) => f.Properties.LogGroupName)).toEqual([
      { Ref: logicalId(built.fns['review-task']!.logGroup) },
      { Ref: logicalId(built.fns.sweep!.logGroup) },
    ]);
    const pattern = filters[0]!.Properties.FilterPattern as string;
    for (const error of SES_FAILURE_ERRORS) {
      expect(pattern).toContain(`$.error = "${error}"`);
      expect(pattern).toContain(`$.errorType = "${error}"`);
    }
  });

  it("watches the account's SES bounce rate", () => {
    expect(alarm(built.alarms.mailBounceRate)).toMatchObject({
      Namespace: 'AWS/SES',
      MetricName: 'Reputation.BounceRate',
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: SES_BOUNCE_RATE_THRESHOLD,
    });
  });

  it('raises the table alarms on throttled reads or writes of the table or its index, and on system errors', () => {
    const throttles = queries(built.alarms.tableThrottles).filter((q) => q.MetricStat);
    expect(throttles.map((q) => q.MetricStat!.Metric.MetricName).sort()).toEqual([
      'ReadThrottleEvents',
      'ReadThrottleEvents',
      'WriteThrottleEvents',
      'WriteThrottleEvents',
    ]);
    expect(JSON.stringify(throttles)).toContain('"GlobalSecondaryIndexName","Value":"attention"');
    const system = queries(built.alarms.tableSystemErrors).filter((q) => q.MetricStat);
    expect(system.length).toBe(10);
    for (const q of system) expect(q.MetricStat!.Metric).toMatchObject({ Namespace: 'AWS/DynamoDB', MetricName: 'SystemErrors' });
  });

  it('raises the workflow alarm and the notice alarm on failed, timed-out, aborted or throttled executions of their own state machine', () => {
    const faults = ['AWS/States ExecutionThrottled', 'AWS/States ExecutionsAborted', 'AWS/States ExecutionsFailed', 'AWS/States ExecutionsTimedOut'].sort();
    const machineOf = (construct: Parameters<typeof logicalId>[0]) => [
      ...new Set(
        queries(construct)
          .flatMap((q) => (q.MetricStat?.Metric.Dimensions ?? []) as Array<{ Value: unknown }>)
          .map((d) => JSON.stringify(d.Value)),
      ),
    ];
    expect(metricNames(built.alarms.workflowFailures).sort()).toEqual(faults);
    expect(metricNames(built.alarms.noticeFailures).sort()).toEqual(faults);
    expect(machineOf(built.alarms.workflowFailures)).toEqual([JSON.stringify({ Ref: logicalId(built.stack.node.findChild('Machine') as sfn.StateMachine) })]);
    expect(machineOf(built.alarms.noticeFailures)).toEqual([JSON.stringify({ Ref: logicalId(built.stack.node.findChild('Notices') as sfn.StateMachine) })]);
  });

  it(`raises the API alarm on ${API_5XX_THRESHOLD} or more 5xx responses in five minutes`, () => {
    expect(alarm(built.alarms.apiServerErrors)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Statistic: 'Sum',
      Period: 300,
      Threshold: API_5XX_THRESHOLD,
    });
  });

  it('refuses a mail sender or an alarmed-elsewhere name that is not a watched function', () => {
    expect(() => alarmsAlone({ mailSenders: ['admin'] })).toThrow(/OperationalAlarms: admin is not one of the watched functions/);
    expect(() => alarmsAlone({ errorsAlarmedElsewhere: ['rotation'] })).toThrow(/OperationalAlarms: rotation is not one of the watched functions/);
  });
});
