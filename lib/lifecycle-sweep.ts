import { createHash } from 'node:crypto';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The sweep interval accepted, in whole minutes (the `sweepIntervalMinutes` context key has the same bounds). */
export const SWEEP_INTERVAL_MINUTES = { min: 5, max: 1440 } as const;

/** The bounds EventBridge puts on a target's retry policy. */
const MAX_EVENT_AGE_SECONDS = { min: 60, max: 86_400 } as const;
const MAX_RETRY_ATTEMPTS = 185;
/** The longest Lambda keeps an asynchronous invocation (6 hours). */
const LAMBDA_MAX_EVENT_AGE_SECONDS = 21_600;

/** EventBridge rule names are at most 64 characters. */
const MAX_RULE_NAME = 64;

export interface LifecycleSweepProps {
  /**
   * The function the schedule invokes (HandlerFunctions' `sweep`). When it is defined in this app, the dead-letter queue
   * also becomes its own (failed asynchronous invocations); an imported function keeps the configuration of its stack.
   */
  readonly sweepFunction: lambda.IFunction;
  /**
   * How often the sweep runs: whole minutes from 5 to 1440. A run reads only consumers already due, so a shorter interval
   * makes suspensions and revocations more punctual at the same total cost.
   * @default Duration.minutes(60)
   */
  readonly interval?: Duration;
  /**
   * How long EventBridge keeps trying to deliver one run's event to the function (60 s to 24 h) before it goes to the
   * dead-letter queue. A run older than the interval is superseded by the next one.
   * @default - the interval
   */
  readonly maxEventAge?: Duration;
  /**
   * How many times EventBridge retries delivering one run's event (0 to 185).
   * @default 3
   */
  readonly retryAttempts?: number;
  /**
   * Topic told when the sweep fails or an event reaches the dead-letter queue, and when the alarms clear.
   * @default - none: the alarms show in CloudWatch only
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The scheduled lifecycle sweep: an EventBridge rule invokes the sweep function every `interval`, with a bounded retry
 * policy and a KMS-encrypted dead-letter queue for the runs EventBridge could not deliver (and, as the function's own
 * dead-letter queue, for the runs that failed after Lambda's asynchronous retries). Alarms fire when the sweep
 * function fails and when the dead-letter queue holds an event. The sweep is safe to run concurrently with itself (every
 * change is a conditional, audited transition); its small reserved concurrency (FUNCTIONS.sweep) only bounds how many
 * overlapping runs there can be.
 */
export class LifecycleSweep extends Construct {
  /** The schedule. */
  public readonly rule: events.Rule;
  /** How often the schedule runs the sweep. */
  public readonly interval: Duration;
  /** Where the runs EventBridge could not deliver, and the runs that failed after Lambda's retries, go. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The key the dead-letter queue is encrypted with. */
  public readonly encryptionKey: kms.Key;
  /** In alarm when a sweep run fails (the function threw or timed out); due consumers stay due for the next run. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** In alarm when a run's event reached the dead-letter queue (EventBridge could not invoke the function). */
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LifecycleSweepProps) {
    super(scope, id);
    const interval = props.interval ?? Duration.minutes(60);
    checkInterval(interval);
    this.interval = interval;
    const maxEventAge = props.maxEventAge ?? interval;
    const retryAttempts = props.retryAttempts ?? 3;
    checkRetryPolicy(maxEventAge, retryAttempts);

    const stack = Stack.of(this);
    // Named, so that the key policy can name the rule without a reference to it (key → rule → queue → key would be a cycle).
    const ruleName = sweepRuleName(stack.stackName, this.node.path);
    const ruleArn = stack.formatArn({ service: 'events', resource: 'rule', resourceName: ruleName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    this.encryptionKey = new kms.Key(this, 'DeadLetterKey', {
      description: 'Gatehouse: encrypts the lifecycle-sweep dead-letter queue',
      enableKeyRotation: true,
      // It encrypts nothing but the dead-letter queue, which goes with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // EventBridge writes to the encrypted queue, so it needs the key; only for this rule, in this account.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    );

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself the dead-letter queue of the lifecycle-sweep schedule: it receives the runs EventBridge could not deliver and the runs that failed after Lambda's asynchronous retries, nothing consumes it automatically, and a dead-letter queue needs no dead-letter queue of its own. The DeadLetterAlarm fires on its first message.",
    });

    this.rule = new events.Rule(this, 'Rule', {
      ruleName,
      description: `Gatehouse: runs the lifecycle sweep (dormancy, grant expiry, warnings) every ${interval.toHumanString()}`,
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(props.sweepFunction, { deadLetterQueue: this.deadLetterQueue, maxEventAge, retryAttempts })],
    });
    // EventBridge invokes the function asynchronously: a run it delivered that then failed Lambda's own retries (2) goes to
    // the same queue, so the dead-letter alarm covers both ways a run can be lost.
    useAsFunctionDeadLetterQueue(props.sweepFunction, this.deadLetterQueue, this.encryptionKey, maxEventAge);

    // Both alarms fire on the first occurrence in five minutes; quiet periods are not alarms.
    const onFirst = (id: string, alarmDescription: string, metric: cloudwatch.IMetric) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.errorsAlarm = onFirst(
      'ErrorsAlarm',
      'Gatehouse: a lifecycle sweep run failed (the function threw or timed out). Consumers it did not handle stay due in the attention index and the next run retries them; see the sweep function logs.',
      props.sweepFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    );
    this.deadLetterAlarm = onFirst(
      'DeadLetterAlarm',
      "Gatehouse: EventBridge could not invoke the lifecycle sweep function (a run's event is in the dead-letter queue; check the function exists and its invoke permission). Suspensions and revocations are late until a run succeeds.",
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
    );
    if (props.alarmTopic) {
      for (const alarm of [this.errorsAlarm, this.deadLetterAlarm]) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
        alarm.addOkAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      }
    }
  }
}

/**
 * Makes `queue` the dead-letter queue for failed asynchronous invocations of a function defined in this app, lets the
 * function's role send to it (Lambda sends with the execution role: sqs:SendMessage on the queue, and the queue key's
 * GenerateDataKey/Decrypt), and bounds how long Lambda keeps retrying an invocation to `maxEventAge`.
 */
function useAsFunctionDeadLetterQueue(fn: lambda.IFunction, queue: sqs.Queue, key: kms.Key, maxEventAge: Duration): void {
  const cfn = fn.node.defaultChild;
  // An imported function's configuration belongs to the stack that defines it.
  if (!(cfn instanceof lambda.CfnFunction)) return;
  cfn.deadLetterConfig = { targetArn: queue.queueArn };
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
  key.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
  // A run Lambda is still retrying after one interval is superseded by the next run (Lambda keeps an event 6 h at most).
  fn.configureAsyncInvoke({ maxEventAge: Duration.seconds(Math.min(maxEventAge.toSeconds(), LAMBDA_MAX_EVENT_AGE_SECONDS)) });
}

/**
 * `<stack name>-lifecycle-sweep-<hash>`, the hash of the stack name and the construct path, so that two sweeps never share
 * a name; a long stack name is cut to fit EventBridge's 64 characters (the hash still tells stacks apart).
 */
export function sweepRuleName(stackName: string, constructPath: string): string {
  const hash = createHash('sha256').update(`${stackName}\n${constructPath}`).digest('hex').slice(0, 8);
  const suffix = `-lifecycle-sweep-${hash}`;
  return `${stackName.slice(0, MAX_RULE_NAME - suffix.length)}${suffix}`;
}

function checkInterval(interval: Duration): void {
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < SWEEP_INTERVAL_MINUTES.min || minutes > SWEEP_INTERVAL_MINUTES.max) {
    throw new Error(
      `LifecycleSweep: interval must be a whole number of minutes from ${SWEEP_INTERVAL_MINUTES.min} to ${SWEEP_INTERVAL_MINUTES.max}, got ${minutes}`,
    );
  }
}

function checkRetryPolicy(maxEventAge: Duration, retryAttempts: number): void {
  const age = maxEventAge.toSeconds({ integral: false });
  if (!Number.isInteger(age) || age < MAX_EVENT_AGE_SECONDS.min || age > MAX_EVENT_AGE_SECONDS.max) {
    throw new Error(
      `LifecycleSweep: maxEventAge must be a whole number of seconds from ${MAX_EVENT_AGE_SECONDS.min} to ${MAX_EVENT_AGE_SECONDS.max}, got ${age}`,
    );
  }
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > MAX_RETRY_ATTEMPTS) {
    throw new Error(`LifecycleSweep: retryAttempts must be a whole number from 0 to ${MAX_RETRY_ATTEMPTS}, got ${retryAttempts}`);
  }
}
