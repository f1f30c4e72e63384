import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  METRIC_DEFINITIONS,
  METRIC_NAMES,
  METRICS_SERVICE,
  RECERTIFICATION_OUTCOMES,
  REGISTRATION_UPDATE_OUTCOMES,
  stackMetricsNamespace,
} from '../../lambdas/core/metrics.js';
import { GatehouseDashboard, type GatehouseDashboardProps } from '../../lib/dashboard.js';
import { testApp } from './stack-fixture.js';

/** A metric line of a graph widget: `[namespace, name, dimName, dimValue, ..., options]`, or `[{ expression, label }]`. */
type MetricLine = Array<string | Record<string, unknown>>;
interface Widget {
  readonly type: string;
  readonly properties: { readonly title?: string; readonly metrics?: MetricLine[]; readonly alarms?: string[]; readonly period?: number };
}

/** The dashboard body as JSON, with every CloudFormation reference (an ARN, a name) replaced by `<ref>`. */
function dashboardWidgets(template: Template): Widget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

const expressions = (widgets: readonly Widget[]): string[] =>
  widgets.flatMap((w) =>
    (w.properties.metrics ?? []).flatMap((line) =>
      line.filter((p): p is Record<string, unknown> => typeof p === 'object' && 'expression' in p).map((p) => String(p['expression'])),
    ),
  );
const plainMetrics = (widgets: readonly Widget[]): MetricLine[] =>
  widgets.flatMap((w) => (w.properties.metrics ?? []).filter((line) => typeof line[0] === 'string'));
const byTitle = (widgets: readonly Widget[], title: string): Widget => widgets.find((w) => w.properties.title === title)!;

/** The dashboard over stand-ins, in a stack named Watched. */
function dashboardAlone(overrides: Partial<GatehouseDashboardProps> = {}): { stack: Stack; widgets: Widget[]; template: Template } {
  const stack = new Stack(testApp(), 'Watched');
  const api = new apigateway.RestApi(stack, 'Api', { cloudWatchRole: false, restApiName: 'gatehouse-api' });
  const tokenMethod = api.root.resourceForPath('/oauth2/token').addMethod('POST', new apigateway.MockIntegration());
  const tokenFunction = new lambda.Function(stack, 'Token', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('x'),
  });
  const table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
  const stateMachine = new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')) });
  const alarm = new cloudwatch.Alarm(stack, 'SomeAlarm', { metric: tokenFunction.metricErrors(), threshold: 1, evaluationPeriods: 1 });
  new GatehouseDashboard(stack, 'Dashboard', {
    tokenMethod,
    stage: api.deploymentStage,
    tokenFunction,
    table,
    tableIndexes: ['attention'],
    stateMachine,
    alarms: [alarm],
    ...overrides,
  });
  const template = Template.fromStack(stack);
  return { stack, widgets: dashboardWidgets(template), template };
}

describe('GatehouseDashboard', () => {
  let widgets: Widget[];
  const namespace = stackMetricsNamespace('Watched');

  beforeAll(() => {
    ({ widgets } = dashboardAlone());
  });

  it('creates one dashboard that shows every Gatehouse metric the adapters publish', () => {
    const shown = new Set([
      ...expressions(widgets).flatMap((e) => [...e.matchAll(/MetricName="([A-Za-z]+)"/g)].map((m) => m[1]!)),
      ...plainMetrics(widgets)
        .filter((line) => line[0] === namespace)
        .map((line) => String(line[1])),
    ]);
    expect([...shown].sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('searches each dimensioned metric in the stack namespace with exactly the dimensions the adapter publishes it with', () => {
    const searches = expressions(widgets).flatMap((e) => [...e.matchAll(/SEARCH\('\{"([^"]+)",([^}]*)\} service="([^"]+)" MetricName="([A-Za-z]+)"'/g)]);
    expect(searches.length).toBeGreaterThan(0);
    for (const [, ns, dims, service, name] of searches) {
      expect(ns).toBe(namespace);
      expect(service).toBe(METRICS_SERVICE);
      expect(dims!.split(','), name).toEqual(['service', ...METRIC_DEFINITIONS[name as keyof typeof METRIC_DEFINITIONS].dimensions]);
    }
  });

  it('draws the metrics without dimensions of their own (sweep, policy rollout) and the rotations by kind and outcome as single series, with the service dimension', () => {
    const ours = plainMetrics(widgets).filter((line) => line[0] === namespace);
    for (const line of ours) {
      const name = String(line[1]);
      const dims = line.slice(2, -1).filter((_, i) => i % 2 === 0);
      expect(dims.sort(), name).toEqual(['service', ...METRIC_DEFINITIONS[name as keyof typeof METRIC_DEFINITIONS].dimensions].sort());
      expect(line[line.indexOf('service') + 1]).toBe(METRICS_SERVICE);
    }
    expect(byTitle(widgets, 'Secret rotations, by kind and outcome').properties.metrics).toHaveLength(4);
    expect(byTitle(widgets, 'Lifecycle sweep, per run').properties.period).toBe(3600);
  });

  it('shows RFC 7592 updates by each outcome with deletes, and recertifications due with each outcome, hourly', () => {
    /** A graph's lines as `name outcome` (or the name alone), each with its label. */
    const lines = (title: string) =>
      (byTitle(widgets, title).properties.metrics ?? []).map((line) => {
        const at = line.indexOf('outcome');
        return [`${String(line[1])}${at > 0 ? ` ${String(line[at + 1])}` : ''}`, (line.at(-1) as { label: string }).label];
      });
    const registration = 'Registration updates (RFC 7592), by outcome, and deletes';
    expect(lines(registration)).toEqual([
      ...REGISTRATION_UPDATE_OUTCOMES.map((outcome) => [`RegistrationUpdates ${outcome}`, `update ${outcome}`]),
      ['RegistrationsDeleted', 'deleted'],
    ]);
    const recertification = 'Recertification: consumers due, and outcomes';
    expect(lines(recertification)).toEqual([
      ['RecertificationsDue', 'fell due (links sent)'],
      ...RECERTIFICATION_OUTCOMES.map((outcome) => [`RecertificationOutcomes ${outcome}`, outcome]),
    ]);
    for (const title of [registration, recertification]) {
      expect(byTitle(widgets, title).properties.period, title).toBe(3600);
      for (const line of byTitle(widgets, title).properties.metrics!) expect(line[0]).toBe(namespace);
    }
  });

  it('shows the token route at API Gateway (4xx, 5xx, p99 latency) and its function (errors, throttles, p99 duration)', () => {
    const apiLines = plainMetrics(widgets).filter((line) => line[0] === 'AWS/ApiGateway');
    expect(apiLines.map((line) => [line[1], (line.at(-1) as { stat: string }).stat]).sort()).toEqual([
      ['4XXError', 'Sum'],
      ['5XXError', 'Sum'],
      ['IntegrationLatency', 'p99'],
      ['Latency', 'p99'],
    ]);
    for (const line of apiLines) expect(line.slice(2, 8)).toEqual(['ApiName', 'gatehouse-api', 'Method', 'POST', 'Resource', '/oauth2/token']);
    const lambdaLines = plainMetrics(widgets).filter((line) => line[0] === 'AWS/Lambda');
    expect(lambdaLines.map((line) => [line[1], (line.at(-1) as { stat: string }).stat]).sort()).toEqual([
      ['Duration', 'p99'],
      ['Errors', 'Sum'],
      ['Throttles', 'Sum'],
    ]);
  });

  it('shows DynamoDB throttles of the table and its indexes, and review executions that failed, timed out or were aborted', () => {
    const dynamo = plainMetrics(widgets).filter((line) => line[0] === 'AWS/DynamoDB');
    expect(dynamo.map((line) => `${String(line[1])}${line.includes('GlobalSecondaryIndexName') ? ' attention' : ''}`).sort()).toEqual([
      'ReadThrottleEvents',
      'ReadThrottleEvents attention',
      'WriteThrottleEvents',
      'WriteThrottleEvents attention',
    ]);
    const states = plainMetrics(widgets)
      .filter((line) => line[0] === 'AWS/States')
      .map((line) => line[1]);
    expect(states).toEqual(expect.arrayContaining(['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']));
  });

  it('computes the token refusal rate from both token metrics, and shows the review latency in hours', () => {
    const rate = expressions([byTitle(widgets, 'Token refusal rate')])[0]!;
    expect(rate).toMatch(
      /^100 \* SUM\(SEARCH\(.*TokenRequestsRefused.*\)\) \/ \(SUM\(SEARCH\(.*TokensIssued.*\)\) \+ SUM\(SEARCH\(.*TokenRequestsRefused.*\)\)\)$/,
    );
    const latency = expressions([byTitle(widgets, 'Review latency (hours), by kind and outcome')]);
    expect(latency).toEqual(expect.arrayContaining([expect.stringMatching(/MetricName="ReviewLatency"', 'Maximum', 3600\) \/ 3600$/)]));
  });

  it('shows the state of the alarms it is given, and no alarm widget without them', () => {
    expect(widgets.filter((w) => w.type === 'alarm').map((w) => w.properties.alarms)).toEqual([['<ref>']]);
    expect(dashboardAlone({ alarms: [] }).widgets.filter((w) => w.type === 'alarm')).toEqual([]);
  });

  it('takes the graph period from its props', () => {
    const { widgets: hourly } = dashboardAlone({ period: Duration.hours(1) });
    expect(byTitle(hourly, 'Tokens issued, by tier and risk').properties.period).toBe(3600);
    expect(expressions([byTitle(hourly, 'Tokens issued, by tier and risk')])[0]).toContain("'Sum', 3600)");
  });
});
