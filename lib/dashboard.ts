import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { RECERTIFICATION_OUTCOMES, REGISTRATION_UPDATE_OUTCOMES, ROTATION_KINDS, ROTATION_OUTCOMES, SWEEP_METRICS } from '../lambdas/core/metrics.js';
import { dimensionLabel, gatehouseMetric, gatehouseMetricSearch, metricSearch } from './gatehouse-metrics.js';

export interface GatehouseDashboardProps {
  /** The token route's method (`POST /oauth2/token`), for its API Gateway metrics. */
  readonly tokenMethod: apigateway.Method;
  /** The stage the API is served from. */
  readonly stage: apigateway.IStage;
  /** The token function (the hot path). */
  readonly tokenFunction: lambda.IFunction;
  /** The registry table. */
  readonly table: dynamodb.ITable;
  /** Global secondary indexes of the table, whose throttling shows too. */
  readonly tableIndexes: readonly string[];
  /** The review state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The consumer-notice state machine.
   * @default - no notice graph
   */
  readonly noticeStateMachine?: sfn.IStateMachine;
  /**
   * Alarms whose state the dashboard shows at the top.
   * @default - none (no alarm status widget)
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /**
   * Period of the graphs.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
  /**
   * Period of the lifecycle sweep graphs (one run per schedule interval).
   * @default Duration.hours(1)
   */
  readonly sweepPeriod?: Duration;
  /**
   * Name of the dashboard.
   * @default - one CloudFormation generates (unique per stack)
   */
  readonly dashboardName?: string;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * The Gatehouse dashboard, one per stack: tokens issued and refused (by tier, risk and OAuth error, and the refusal rate),
 * the token route at API Gateway (4xx, 5xx, p99 latency) and its function (errors, throttles, p99 duration), onboarding
 * and review (decisions by path, reviewer decisions, review latency by kind and outcome), RFC 7592 updates by outcome and
 * deletes, recertifications due and their outcomes, the lifecycle sweep and policy rollout counts, secret rotations, admin
 * actions, DynamoDB throttles and failed review executions. Custom metrics with open-ended dimensions are drawn with
 * SEARCH, one line per dimension value that has data.
 */
export class GatehouseDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: GatehouseDashboardProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    const sweepPeriod = props.sweepPeriod ?? Duration.hours(1);
    const search = (name: Parameters<typeof gatehouseMetricSearch>[1], options: Parameters<typeof gatehouseMetricSearch>[2] = {}) =>
      gatehouseMetricSearch(this, name, { period, ...options });
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT, period, ...options });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName !== undefined ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(24),
    });

    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Gatehouse alarms', alarms: [...props.alarms], width: 3 * WIDTH, height: 4 }));
    }

    const refusalRate = new cloudwatch.MathExpression({
      expression: `100 * SUM(${metricSearch(this, 'TokenRequestsRefused', 'Sum', period)}) / (SUM(${metricSearch(this, 'TokensIssued', 'Sum', period)}) + SUM(${metricSearch(this, 'TokenRequestsRefused', 'Sum', period)}))`,
      usingMetrics: {},
      period,
      label: 'Refused (% of token requests)',
    });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Tokens', width: 3 * WIDTH, height: 1 }));
    this.dashboard.addWidgets(
      graph('Tokens issued, by tier and risk', [search('TokensIssued')]),
      graph('Token requests refused, by OAuth error', [search('TokenRequestsRefused')]),
      graph('Token refusal rate', [refusalRate], { leftYAxis: { min: 0, max: 100, label: '%', showUnits: false } }),
    );

    const { tokenMethod, stage, tokenFunction } = props;
    this.dashboard.addWidgets(
      graph('Token route: API Gateway 4xx and 5xx', [
        tokenMethod.metricClientError(stage, { statistic: cloudwatch.Stats.SUM, period, label: '4xx' }),
        tokenMethod.metricServerError(stage, { statistic: cloudwatch.Stats.SUM, period, label: '5xx' }),
      ]),
      graph('Token route: API Gateway latency p99', [
        tokenMethod.metricLatency(stage, { statistic: cloudwatch.Stats.p(99), period, label: 'Latency p99' }),
        tokenMethod.metricIntegrationLatency(stage, { statistic: cloudwatch.Stats.p(99), period, label: 'Integration latency p99' }),
      ]),
      graph(
        'Token function: errors, throttles, duration p99',
        [
          tokenFunction.metricErrors({ statistic: cloudwatch.Stats.SUM, period, label: 'Errors' }),
          tokenFunction.metricThrottles({ statistic: cloudwatch.Stats.SUM, period, label: 'Throttles' }),
        ],
        { right: [tokenFunction.metricDuration({ statistic: cloudwatch.Stats.p(99), period, label: 'Duration p99 (ms)' })] },
      ),
    );

    // One line per kind and outcome, labelled with their dimension values.
    const latencyHours = (statistic: string) =>
      new cloudwatch.MathExpression({
        expression: `${metricSearch(this, 'ReviewLatency', statistic, Duration.hours(1))} / 3600`,
        usingMetrics: {},
        period: Duration.hours(1),
        label: dimensionLabel('ReviewLatency'),
      });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Onboarding and review', width: 3 * WIDTH, height: 1 }));
    this.dashboard.addWidgets(
      graph('Registration decisions, by path and tier', [search('RegistrationDecisions')]),
      graph('Reviewer decisions', [search('ReviewsDecided')]),
      graph('Review latency (hours), by kind and outcome', [latencyHours(cloudwatch.Stats.MAXIMUM)], {
        period: Duration.hours(1),
        right: [search('ReviewLatency', { statistic: cloudwatch.Stats.SAMPLE_COUNT, period: Duration.hours(1) })],
        leftYAxis: { min: 0, label: 'hours (max)', showUnits: false },
        rightYAxis: { min: 0, label: 'reviews ended', showUnits: false },
      }),
    );

    // One line per outcome the vocabulary names, so each keeps its label and colour whether or not it has data yet.
    const hourly = { statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) };
    this.dashboard.addWidgets(
      graph(
        'Registration updates (RFC 7592), by outcome, and deletes',
        [
          ...REGISTRATION_UPDATE_OUTCOMES.map((outcome) =>
            gatehouseMetric(this, 'RegistrationUpdates', { outcome }, { ...hourly, label: `update ${outcome}` }),
          ),
          gatehouseMetric(this, 'RegistrationsDeleted', {}, { ...hourly, label: 'deleted' }),
        ],
        { period: Duration.hours(1), width: 1.5 * WIDTH },
      ),
      graph(
        'Recertification: consumers due, and outcomes',
        [
          gatehouseMetric(this, 'RecertificationsDue', {}, { ...hourly, label: 'fell due (links sent)' }),
          ...RECERTIFICATION_OUTCOMES.map((outcome) => gatehouseMetric(this, 'RecertificationOutcomes', { outcome }, { ...hourly, label: outcome })),
        ],
        { period: Duration.hours(1), width: 1.5 * WIDTH },
      ),
    );

    const machine = props.stateMachine;
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: '## Lifecycle and operations', width: 3 * WIDTH, height: 1 }));
    this.dashboard.addWidgets(
      graph(
        'Lifecycle sweep, per run',
        SWEEP_METRICS.map((name) =>
          gatehouseMetric(this, name, {}, { statistic: cloudwatch.Stats.SUM, period: sweepPeriod, label: name.replace(/^Sweep/, '') }),
        ),
        {
          period: sweepPeriod,
          right: [
            gatehouseMetric(
              this,
              'PolicyRolloutReevaluated',
              {},
              { statistic: cloudwatch.Stats.SUM, period: sweepPeriod, label: 'Policy rollout: re-evaluated' },
            ),
            gatehouseMetric(
              this,
              'PolicyRolloutOutOfPolicy',
              {},
              { statistic: cloudwatch.Stats.SUM, period: sweepPeriod, label: 'Policy rollout: out of policy' },
            ),
          ],
        },
      ),
      graph(
        'Secret rotations, by kind and outcome',
        ROTATION_KINDS.flatMap((kind) =>
          ROTATION_OUTCOMES.map((outcome) =>
            gatehouseMetric(
              this,
              'SecretRotations',
              { kind, outcome },
              { statistic: cloudwatch.Stats.SUM, period: Duration.hours(1), label: `${kind} ${outcome}` },
            ),
          ),
        ),
        { period: Duration.hours(1) },
      ),
      graph('Admin actions', [search('AdminActions')]),
    );

    const table = props.table;
    const indexThrottles = props.tableIndexes.flatMap((index) =>
      (['ReadThrottleEvents', 'WriteThrottleEvents'] as const).map(
        (metricName) =>
          new cloudwatch.Metric({
            namespace: 'AWS/DynamoDB',
            metricName,
            dimensionsMap: { TableName: table.tableName, GlobalSecondaryIndexName: index },
            statistic: cloudwatch.Stats.SUM,
            period,
            label: `${index} ${metricName}`,
          }),
      ),
    );
    this.dashboard.addWidgets(
      graph('DynamoDB throttles', [
        table.metric('ReadThrottleEvents', { statistic: cloudwatch.Stats.SUM, period, label: 'table ReadThrottleEvents' }),
        table.metric('WriteThrottleEvents', { statistic: cloudwatch.Stats.SUM, period, label: 'table WriteThrottleEvents' }),
        ...indexThrottles,
      ]),
      graph('Review executions that did not finish', [
        machine.metricFailed({ period, label: 'Failed' }),
        machine.metricTimedOut({ period, label: 'Timed out' }),
        machine.metricAborted({ period, label: 'Aborted' }),
      ]),
      graph('Review executions started and succeeded', [
        machine.metricStarted({ period, label: 'Started' }),
        machine.metricSucceeded({ period, label: 'Succeeded' }),
      ]),
    );
    const notices = props.noticeStateMachine;
    if (notices) {
      this.dashboard.addWidgets(
        graph('Consumer notices', [
          notices.metricStarted({ period, label: 'Started' }),
          notices.metricSucceeded({ period, label: 'Sent' }),
          notices.metricFailed({ period, label: 'Failed (alarm)' }),
        ]),
      );
    }
  }
}
