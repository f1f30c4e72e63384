import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmfMetrics } from '../../lambdas/adapters/aws/emf-metrics.js';
import { METRIC_DEFINITIONS, METRIC_NAMES, REVIEW_KINDS, stackMetricsNamespace, type MetricName } from '../../lambdas/core/metrics.js';
import { ApplicationAlarms } from '../../lib/application-alarms.js';
import { logicalId, testApp } from './stack-fixture.js';

type Dimension = { Name: string; Value: string };
type MetricStat = { Metric: { Namespace: string; MetricName: string; Dimensions: Dimension[] }; Stat: string; Period: number };
type AlarmProperties = Record<string, unknown> & { Metrics?: Array<{ Id: string; Expression?: string; MetricStat?: MetricStat }> };

function alarmsAlone(interval = Duration.minutes(60)): { stack: Stack; alarms: ApplicationAlarms; topic: sns.Topic; template: Template } {
  const stack = new Stack(testApp(), 'Watched');
  const topic = new sns.Topic(stack, 'Topic');
  const alarms = new ApplicationAlarms(stack, 'ApplicationAlarms', { alarmTopic: topic, sweepInterval: interval });
  return { stack, alarms, topic, template: Template.fromStack(stack) };
}

/** The EMF document EmfMetrics writes for one recorded metric, with the namespace the stack gives the functions. */
function publishedAs(stackName: string, record: (metrics: EmfMetrics) => void): { namespace: string; name: string; dimensions: Dimension[] } {
  const writes: string[] = [];
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => writes.push(String(chunk)) > 0);
  const metrics = new EmfMetrics({ namespace: stackMetricsNamespace(stackName), service: 'gatehouse' });
  record(metrics);
  metrics.flush();
  stdout.mockRestore();
  const doc = JSON.parse(writes.join('')) as {
    _aws: { CloudWatchMetrics: [{ Namespace: string; Dimensions: [string[]]; Metrics: [{ Name: string }] }] };
  } & Record<string, unknown>;
  const [directive] = doc._aws.CloudWatchMetrics;
  return {
    namespace: directive.Namespace,
    name: directive.Metrics[0].Name,
    dimensions: directive.Dimensions[0].map((d) => ({ Name: d, Value: String(doc[d]) })).sort((a, b) => a.Name.localeCompare(b.Name)),
  };
}

const sorted = (dimensions: Dimension[]) => [...dimensions].sort((a, b) => a.Name.localeCompare(b.Name));

describe('ApplicationAlarms', () => {
  let built: ReturnType<typeof alarmsAlone>;
  let resources: Record<string, { Type: string; Properties: AlarmProperties }>;
  const alarm = (construct: Parameters<typeof logicalId>[0]) => resources[logicalId(construct)]!.Properties;

  beforeAll(() => {
    built = alarmsAlone();
    resources = built.template.toJSON().Resources as typeof resources;
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('creates two alarms, each telling the topic when it fires and when it clears', () => {
    const all = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(all).toHaveLength(2);
    expect(built.alarms.all).toHaveLength(2);
    for (const a of all) expect(a.Properties).toMatchObject({ AlarmActions: [{ Ref: logicalId(built.topic) }], OKActions: [{ Ref: logicalId(built.topic) }] });
  });

  it('fires on the first request of any kind that expired unreviewed, counting ReviewLatency observations with outcome expired', () => {
    const props = alarm(built.alarms.reviewsExpired);
    expect(props).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    const stats = props.Metrics!.filter((m) => m.MetricStat).map((m) => m.MetricStat!);
    expect(stats).toHaveLength(REVIEW_KINDS.length);
    for (const stat of stats) {
      expect(stat).toMatchObject({ Stat: 'SampleCount', Period: 300, Metric: { Namespace: stackMetricsNamespace('Watched'), MetricName: 'ReviewLatency' } });
      expect(stat.Metric.Dimensions.find((d) => d.Name === 'outcome')!.Value).toBe('expired');
    }
    expect(stats.map((s) => s.Metric.Dimensions.find((d) => d.Name === 'kind')!.Value).sort()).toEqual([...REVIEW_KINDS].sort());
    expect(props.Metrics!.find((m) => m.Expression)!.Expression).toBe(REVIEW_KINDS.map((_, i) => `FILL(k${i}, 0)`).join(' + '));
  });

  it('fires when no sweep finished in two scheduled intervals, missing data counting as not finished', () => {
    expect(alarm(built.alarms.sweepStalled)).toMatchObject({
      MetricName: 'SweepReads',
      Namespace: stackMetricsNamespace('Watched'),
      Dimensions: [{ Name: 'service', Value: 'gatehouse' }],
      Statistic: 'SampleCount',
      Period: 3600,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const daily = alarmsAlone(Duration.minutes(1440));
    expect((daily.template.toJSON().Resources as typeof resources)[logicalId(daily.alarms.sweepStalled)]!.Properties.Period).toBe(86_400);
  });

  it('watches exactly the namespace, name and dimensions the EMF adapter publishes (one vocabulary, no drift)', () => {
    for (const kind of REVIEW_KINDS) {
      const published = publishedAs('Watched', (m) => m.record('ReviewLatency', { kind, outcome: 'expired' }, 3600));
      const watched = alarm(built.alarms.reviewsExpired)
        .Metrics!.map((m) => m.MetricStat?.Metric)
        .find((m) => m?.Dimensions.some((d) => d.Name === 'kind' && d.Value === kind))!;
      expect({ namespace: watched.Namespace, name: watched.MetricName, dimensions: sorted(watched.Dimensions) }).toEqual(published);
    }
    const sweep = alarm(built.alarms.sweepStalled);
    expect({ namespace: sweep['Namespace'], name: sweep['MetricName'], dimensions: sorted(sweep['Dimensions'] as Dimension[]) }).toEqual(
      publishedAs('Watched', (m) => m.record('SweepReads', {}, 0)),
    );
  });

  it('names only metrics of the shared vocabulary, each with its defined dimensions', () => {
    const used = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .flatMap((r) => [
        ...(r.Properties.Metrics ?? []).filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric),
        ...(r.Properties['MetricName']
          ? [
              {
                MetricName: r.Properties['MetricName'] as string,
                Dimensions: r.Properties['Dimensions'] as Dimension[],
                Namespace: r.Properties['Namespace'] as string,
              },
            ]
          : []),
      ]);
    expect(used.length).toBe(REVIEW_KINDS.length + 1);
    for (const m of used) {
      expect(METRIC_NAMES).toContain(m.MetricName);
      expect(m.Dimensions.map((d) => d.Name).sort()).toEqual(['service', ...METRIC_DEFINITIONS[m.MetricName as MetricName].dimensions].sort());
    }
  });
});
