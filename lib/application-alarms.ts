import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { REVIEW_KINDS } from '../lambdas/core/metrics.js';
import { gatehouseMetric } from './gatehouse-metrics.js';

export interface ApplicationAlarmsProps {
  /** Told when an alarm fires and when it clears. */
  readonly alarmTopic: sns.ITopic;
  /** How often the lifecycle sweep is scheduled (LifecycleSweep's interval). */
  readonly sweepInterval: Duration;
}

/**
 * Alarms on Gatehouse's own metrics, for what no AWS metric or log filter shows: a request that ended because nobody
 * reviewed it within its SLA, and a lifecycle sweep that stopped running. What the custom metrics also count but other
 * alarms already cover is deliberately not alarmed twice: a failed secret rotation (`SecretRotations` outcome=failure) is
 * a failed rotation-function invocation, which the SigningKey and ClientSecrets rotation alarms catch; a consumer the sweep
 * could not handle (`SweepFailed`) is logged at ERROR by the sweep function, which its fault alarm catches.
 */
export class ApplicationAlarms extends Construct {
  /** A request (onboarding, exception or reinstatement) expired without a review decision. */
  public readonly reviewsExpired: cloudwatch.Alarm;
  /** No lifecycle sweep finished in two scheduled intervals (schedule disabled, or every run failing). */
  public readonly sweepStalled: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ApplicationAlarmsProps) {
    super(scope, id);
    const action = new cloudwatchActions.SnsAction(props.alarmTopic);
    const withActions = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    };

    const period = Duration.minutes(5);
    // One observation of ReviewLatency per review outcome: its sample count is the number of reviews that ended so.
    const expired = Object.fromEntries(
      REVIEW_KINDS.map((kind, i) => [
        `k${i}`,
        gatehouseMetric(this, 'ReviewLatency', { kind, outcome: 'expired' }, { statistic: cloudwatch.Stats.SAMPLE_COUNT, period }),
      ]),
    );
    this.reviewsExpired = withActions(
      new cloudwatch.Alarm(this, 'ReviewsExpiredAlarm', {
        alarmDescription: `Gatehouse: a request (${REVIEW_KINDS.join(', ')}) expired because no reviewer decided within its review SLA. The requester was told; check the reviewer groups (are they reachable, is anyone away?) and the review emails (SES alarms).`,
        metric: new cloudwatch.MathExpression({
          expression: Object.keys(expired)
            .map((k) => `FILL(${k}, 0)`)
            .join(' + '),
          usingMetrics: expired,
          period,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // Every finished run records SweepReads (zero included); two intervals without one mean the sweep is not running.
    this.sweepStalled = withActions(
      new cloudwatch.Alarm(this, 'SweepStalledAlarm', {
        alarmDescription: `Gatehouse: no lifecycle sweep finished in the last two scheduled intervals (${props.sweepInterval.toHumanString()} each). Revocations at grant expiry, dormancy suspensions and warnings are late; check that the schedule rule is enabled, and the sweep function's errors and logs.`,
        metric: gatehouseMetric(this, 'SweepReads', {}, { statistic: cloudwatch.Stats.SAMPLE_COUNT, period: props.sweepInterval }),
        threshold: 1,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );
  }

  /** Every alarm of this construct. */
  public get all(): cloudwatch.Alarm[] {
    return [this.reviewsExpired, this.sweepStalled];
  }
}
