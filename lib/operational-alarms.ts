import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * Error names the SES v2 client throws when sending fails for a reason on the SES side (identity, quota, account),
 * as the handlers log them (`error`) or the Lambda runtime reports an uncaught one (`errorType`).
 */
export const SES_FAILURE_ERRORS = [
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'LimitExceededException',
] as const;

/** The item operations whose system errors count (a CloudWatch alarm takes at most 10 metrics; these are all of them). */
const TABLE_OPERATIONS = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
  dynamodb.Operation.TRANSACT_GET_ITEMS,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
] as const;

/** SES puts an account under review at a 5% bounce rate (and may pause sending at 10%). */
export const SES_BOUNCE_RATE_THRESHOLD = 0.05;

/** 5xx responses in five minutes above which the API alarm fires (single 5xx are retried by clients and handlers). */
export const API_5XX_THRESHOLD = 5;

/** A function to watch: its metrics, and the log group its structured logs go to. */
export interface MonitoredFunction {
  readonly function: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
}

export interface OperationalAlarmsProps {
  /** Told when any alarm fires and when it clears. */
  readonly alarmTopic: sns.ITopic;
  /** The functions to watch, by name (one fault alarm each). */
  readonly functions: Readonly<Record<string, MonitoredFunction>>;
  /**
   * Names in `functions` whose errors already raise an alarm of their own (the rotation and sweep alarms), so their fault
   * alarm counts only throttles and logged errors and one failure does not page twice.
   * @default - none
   */
  readonly errorsAlarmedElsewhere?: readonly string[];
  /** Names in `functions` that send email through SES; their logs are searched for SES failures. */
  readonly mailSenders: readonly string[];
  /** The registry table. */
  readonly table: dynamodb.ITable;
  /** Global secondary indexes of the table, whose throttling counts too. */
  readonly tableIndexes: readonly string[];
  /** The review state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** The consumer-notice state machine. */
  readonly noticeStateMachine: sfn.IStateMachine;
  /** The API (its 5xx responses). */
  readonly restApi: apigateway.RestApiBase;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * One alarm per fault class, each telling the alarm topic when it fires and when it clears:
 * - per function: Lambda errors, throttles (reserved concurrency reached) and ERROR lines in its structured logs (failures
 *   the handlers catch and log, e.g. a notice not sent), on the first occurrence in five minutes;
 * - SES: sending failures in the mail senders' logs, and the account's bounce rate;
 * - DynamoDB: throttled reads/writes (table and indexes) and system errors;
 * - Step Functions: failed, timed-out, aborted or throttled review executions, and the same of notice executions (a
 *   notice SES refused for good or past its retries);
 * - API Gateway: 5xx responses.
 * Secrets Manager rotation failures raise the rotation alarms of SigningKey and ClientSecrets; a failed GetSecretValue
 * shows as a logged error or a Lambda error of the function that called it.
 */
export class OperationalAlarms extends Construct {
  /** Fault alarm of each watched function, by name. */
  public readonly functionFaults: Readonly<Record<string, cloudwatch.Alarm>>;
  /** SES refused to send (identity, quota, paused or suspended account) in any mail sender. */
  public readonly mailFailures: cloudwatch.Alarm;
  /** The account's SES bounce rate reached {@link SES_BOUNCE_RATE_THRESHOLD}. */
  public readonly mailBounceRate: cloudwatch.Alarm;
  /** DynamoDB throttled a read or write of the table or an index. */
  public readonly tableThrottles: cloudwatch.Alarm;
  /** DynamoDB answered with a system error (HTTP 500). */
  public readonly tableSystemErrors: cloudwatch.Alarm;
  /** A review execution failed, timed out, was aborted or was throttled. */
  public readonly workflowFailures: cloudwatch.Alarm;
  /** A consumer notice was not delivered: its execution failed (after its retries), timed out, was aborted or was throttled. */
  public readonly noticeFailures: cloudwatch.Alarm;
  /** The API answered {@link API_5XX_THRESHOLD} or more 5xx responses in five minutes. */
  public readonly apiServerErrors: cloudwatch.Alarm;

  private readonly action: cloudwatchActions.SnsAction;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.action = new cloudwatchActions.SnsAction(props.alarmTopic);
    // Metric-filter metrics are per stack, so two Gatehouse stacks in one account never share them.
    this.namespace = `Gatehouse/${Stack.of(this).stackName}`;
    const elsewhere = new Set(props.errorsAlarmedElsewhere ?? []);
    for (const name of [...elsewhere, ...props.mailSenders]) {
      if (!Object.hasOwn(props.functions, name)) throw new Error(`OperationalAlarms: ${name} is not one of the watched functions`);
    }

    const faults: Record<string, cloudwatch.Alarm> = {};
    for (const [name, watched] of Object.entries(props.functions)) faults[name] = this.functionFaultAlarm(name, watched, !elsewhere.has(name));
    this.functionFaults = faults;

    const mailFailures = new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: 'MailFailures',
      statistic: cloudwatch.Stats.SUM,
      period: FIVE_MINUTES,
    });
    for (const name of props.mailSenders) {
      new logs.MetricFilter(this, `${constructId(name)}MailFailures`, {
        logGroup: props.functions[name]!.logGroup,
        filterPattern: logs.FilterPattern.any(
          ...SES_FAILURE_ERRORS.flatMap((error) => [
            logs.FilterPattern.stringValue('$.error', '=', error),
            logs.FilterPattern.stringValue('$.errorType', '=', error),
          ]),
        ),
        metricNamespace: this.namespace,
        metricName: mailFailures.metricName,
        metricValue: '1',
      });
    }
    this.mailFailures = this.alarm('MailFailuresAlarm', mailFailures, {
      description: `Gatehouse: SES refused to send an email (${SES_FAILURE_ERRORS.join(', ')}) in ${props.mailSenders.join(', ')}. Review requests and outcomes are not reaching people (lifecycle notices have the NoticeFailures alarm); check the SES identity, sending quota and account status.`,
    });
    this.mailBounceRate = this.alarm(
      'MailBounceRateAlarm',
      new cloudwatch.Metric({ namespace: 'AWS/SES', metricName: 'Reputation.BounceRate', statistic: cloudwatch.Stats.MAXIMUM, period: Duration.hours(1) }),
      {
        threshold: SES_BOUNCE_RATE_THRESHOLD,
        description: `Gatehouse: the account's SES bounce rate reached ${SES_BOUNCE_RATE_THRESHOLD * 100}% (SES reviews the account at 5% and may pause sending at 10%; this metric covers every sender in the account). Check reviewer groups and consumers' contact addresses.`,
      },
    );

    const table = props.table;
    const throttles: Record<string, cloudwatch.IMetric> = {
      tr: table.metric('ReadThrottleEvents', { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
      tw: table.metric('WriteThrottleEvents', { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
    };
    props.tableIndexes.forEach((index, i) => {
      const dimensionsMap = { TableName: table.tableName, GlobalSecondaryIndexName: index };
      throttles[`ir${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName: 'ReadThrottleEvents',
        dimensionsMap,
        statistic: cloudwatch.Stats.SUM,
        period: FIVE_MINUTES,
      });
      throttles[`iw${i}`] = new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName: 'WriteThrottleEvents',
        dimensionsMap,
        statistic: cloudwatch.Stats.SUM,
        period: FIVE_MINUTES,
      });
    });
    this.tableThrottles = this.alarm('TableThrottlesAlarm', sumOf(throttles), {
      description:
        'Gatehouse: DynamoDB throttled reads or writes of the registry table or its attention index (on-demand capacity outgrown, or a hot partition). Handlers answer 503 and retry; the sweep resumes on its next run.',
    });
    this.tableSystemErrors = this.alarm(
      'TableSystemErrorsAlarm',
      table.metricSystemErrorsForOperations({ operations: [...TABLE_OPERATIONS], period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }),
      { description: 'Gatehouse: DynamoDB answered the registry calls with system errors (HTTP 500 on the AWS side). Check the AWS Health Dashboard.' },
    );

    this.workflowFailures = this.alarm('WorkflowFailuresAlarm', executionFaults(props.stateMachine), {
      description:
        'Gatehouse: a review execution failed, timed out, was aborted or was throttled. The request stays pending or failed; see the execution history (no data is logged) and the review-task logs.',
    });
    this.noticeFailures = this.alarm('NoticeFailuresAlarm', executionFaults(props.noticeStateMachine), {
      description:
        "Gatehouse: a consumer notice (suspension, revocation, warning, rotated secret) was not delivered: SES refused it for good (message or recipient rejected, sender not verified, account suspended) or kept refusing it for 90 minutes of retries. The change it reported stands. Fix the cause (SES alarms, the consumer's contacts), then redrive the failed execution of the notice state machine.",
    });

    this.apiServerErrors = this.alarm('ApiServerErrorsAlarm', props.restApi.metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM }), {
      threshold: API_5XX_THRESHOLD,
      description: `Gatehouse: the API answered ${API_5XX_THRESHOLD} or more 5xx responses in five minutes. See the function fault alarms and the access logs (status, integrationError).`,
    });
  }

  private functionFaultAlarm(name: string, watched: MonitoredFunction, countErrors: boolean): cloudwatch.Alarm {
    const id = constructId(name);
    const loggedErrors = new logs.MetricFilter(this, `${id}LoggedErrors`, {
      logGroup: watched.logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
      metricNamespace: this.namespace,
      metricName: `LoggedErrors-${id}`,
      metricValue: '1',
    }).metric({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES });
    const metrics: Record<string, cloudwatch.IMetric> = {
      t: watched.function.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }),
      l: loggedErrors,
      ...(countErrors ? { e: watched.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES }) } : {}),
    };
    return this.alarm(`${id}FaultsAlarm`, sumOf(metrics), {
      description: `Gatehouse: the ${name} function ${countErrors ? 'failed, ' : ''}was throttled (its reserved concurrency was reached) or logged an error. See its log group for level ERROR.`,
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, options: { readonly description: string; readonly threshold?: number }): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: options.description,
      metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }
}

/** Executions of a state machine that failed, timed out, were aborted or were throttled. */
function executionFaults(machine: sfn.IStateMachine): cloudwatch.MathExpression {
  return sumOf({
    f: machine.metricFailed({ period: FIVE_MINUTES }),
    t: machine.metricTimedOut({ period: FIVE_MINUTES }),
    a: machine.metricAborted({ period: FIVE_MINUTES }),
    h: machine.metricThrottled({ period: FIVE_MINUTES }),
  });
}

/** The sum of metrics that may have no data points (a missing one counts as 0). */
function sumOf(metrics: Readonly<Record<string, cloudwatch.IMetric>>): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: Object.keys(metrics)
      .map((key) => `FILL(${key}, 0)`)
      .join(' + '),
    usingMetrics: { ...metrics },
    period: FIVE_MINUTES,
  });
}

/** `registration-read` → `RegistrationRead`. */
function constructId(name: string): string {
  return name
    .split(/[-_\s]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
