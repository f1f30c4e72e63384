import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { EmfMetrics } from '../../../../lambdas/adapters/aws/emf-metrics.js';
import { METRICS_NAMESPACE_ENV } from '../../../../lambdas/adapters/aws/env.js';
import { METRIC_DEFINITIONS, METRIC_NAMES, type MetricDimensions, type MetricName } from '../../../../lambdas/core/metrics.js';
import { recordingLog } from '../../fixtures.js';

/** One EMF document as CloudWatch reads it from a log line. */
interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  readonly [key: string]: unknown;
}

/** Dimension values for every metric: the compiler checks each has exactly its dimensions' types. */
const SAMPLES: { readonly [N in MetricName]: MetricDimensions[N] } = {
  TokensIssued: { tier: 'public', risk: 'low' },
  TokenRequestsRefused: { error: 'invalid_client' },
  RegistrationDecisions: { path: 'auto', tier: 'partner' },
  RegistrationUpdates: { outcome: 'conflict' },
  RegistrationsDeleted: {},
  RecertificationsDue: {},
  RecertificationOutcomes: { outcome: 'suspended_overdue' },
  ReviewsDecided: { decision: 'deny' },
  ReviewLatency: { kind: 'exception', outcome: 'expired' },
  SweepReads: {},
  SweepRevoked: {},
  SweepSuspended: {},
  SweepWarned: {},
  SweepExceptionsEnded: {},
  SweepRequestsFailed: {},
  SweepFailed: {},
  SweepOrphanSecretsDeleted: {},
  PolicyRolloutReevaluated: {},
  PolicyRolloutOutOfPolicy: {},
  SecretRotations: { kind: 'signing_key', outcome: 'failure' },
  AdminActions: { action: 'suspend' },
};

let stdout: MockInstance<typeof process.stdout.write>;

beforeEach(() => {
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  stdout.mockRestore();
  vi.unstubAllEnvs();
});

/** The EMF documents written to stdout since the last call. */
function documents(): EmfDocument[] {
  const lines = stdout.mock.calls
    .map(([chunk]) => String(chunk))
    .join('')
    .split('\n')
    .filter(Boolean);
  stdout.mockClear();
  return lines.map((line) => JSON.parse(line) as EmfDocument);
}

const TEST_OPTIONS = { namespace: 'Gatehouse/Test', service: 'gatehouse' } as const;

describe('EmfMetrics', () => {
  it('buffers without writing anything, then writes one EMF document per dimension set on flush', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' });
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' });
    metrics.record('TokensIssued', { tier: 'public', risk: 'low' }, 2);
    metrics.record('TokensIssued', { tier: 'partner', risk: 'medium' });
    metrics.record('SweepReads', {}, 40);
    metrics.record('SweepFailed', {}, 0);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 10);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'approved' }, 20.5);
    expect(stdout).not.toHaveBeenCalled();

    metrics.flush();

    const docs = documents();
    expect(docs).toHaveLength(4);
    const [low, medium, sweep, latency] = docs;
    expect(low).toMatchObject({
      _aws: {
        CloudWatchMetrics: [{ Namespace: 'Gatehouse/Test', Dimensions: [['service', 'tier', 'risk']], Metrics: [{ Name: 'TokensIssued', Unit: 'Count' }] }],
      },
      service: 'gatehouse',
      tier: 'public',
      risk: 'low',
      TokensIssued: 4,
    });
    expect(medium).toMatchObject({ tier: 'partner', risk: 'medium', TokensIssued: 1 });
    // Metrics without dimensions of their own share one document, with `service` only.
    expect(sweep!._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'Gatehouse/Test',
      Dimensions: [['service']],
      Metrics: [
        { Name: 'SweepReads', Unit: 'Count' },
        { Name: 'SweepFailed', Unit: 'Count' },
      ],
    });
    expect(sweep).toMatchObject({ SweepReads: 40, SweepFailed: 0 });
    // Latencies keep every observation, so CloudWatch can compute percentiles.
    expect(latency).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'kind', 'outcome']], Metrics: [{ Name: 'ReviewLatency', Unit: 'Seconds' }] }] },
      kind: 'onboarding',
      outcome: 'approved',
      ReviewLatency: [10, 20.5],
    });
    expect(typeof low!._aws.Timestamp).toBe('number');
  });

  it('publishes every metric with `service` and exactly the dimensions its definition names, in the unit it names', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    for (const name of METRIC_NAMES) metrics.record(name, SAMPLES[name] as never, 1);
    metrics.flush();

    const published = new Map<string, { dimensions: string[][]; unit: string; value: unknown; document: EmfDocument }>();
    for (const doc of documents()) {
      for (const m of doc._aws.CloudWatchMetrics[0]!.Metrics)
        published.set(m.Name, { dimensions: doc._aws.CloudWatchMetrics[0]!.Dimensions, unit: m.Unit, value: doc[m.Name], document: doc });
    }
    expect([...published.keys()].sort()).toEqual([...METRIC_NAMES].sort());
    for (const name of METRIC_NAMES) {
      const p = published.get(name)!;
      expect(p.dimensions, name).toEqual([['service', ...METRIC_DEFINITIONS[name].dimensions]]);
      expect(p.unit, name).toBe(METRIC_DEFINITIONS[name].unit);
      expect(p.value, name).toBe(1);
      for (const [k, v] of Object.entries(SAMPLES[name])) expect(p.document[k], `${name}.${k}`).toBe(v);
    }
  });

  it('writes nothing when nothing was recorded, and empties its buffer on every flush', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    metrics.flush();
    expect(stdout).not.toHaveBeenCalled();

    metrics.record('AdminActions', { action: 'terminate' });
    metrics.flush();
    expect(documents()).toHaveLength(1);
    metrics.flush();
    expect(stdout).not.toHaveBeenCalled();
  });

  it('ignores a value that is not a finite number instead of failing the request that recorded it', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    metrics.record('ReviewLatency', { kind: 'onboarding', outcome: 'denied' }, Number.NaN);
    metrics.record('SweepReads', {}, Number.POSITIVE_INFINITY);
    metrics.flush();
    expect(stdout).not.toHaveBeenCalled();
  });

  it('splits more than 99 observations of one series over several documents, losing none', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    for (let i = 1; i <= 150; i++) metrics.record('ReviewLatency', { kind: 'reinstatement', outcome: 'approved' }, i);
    metrics.flush();

    const docs = documents();
    expect(docs).toHaveLength(2);
    for (const doc of docs)
      expect(doc).toMatchObject({
        kind: 'reinstatement',
        outcome: 'approved',
        _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'kind', 'outcome']] }] },
      });
    expect(docs.flatMap((d) => d['ReviewLatency'] as number[])).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  });

  it('reports a failure to publish on the log at error level and never throws', () => {
    const log = recordingLog();
    const metrics = new EmfMetrics({
      ...TEST_OPTIONS,
      log,
      write: () => {
        throw new RangeError('boom');
      },
    });
    metrics.record('TokensIssued', { tier: 'internal', risk: 'high' });

    expect(() => metrics.flush()).not.toThrow();
    expect(log.error).toHaveBeenCalledWith('metrics not published', { error: 'RangeError', message: 'boom' });
  });

  it('takes the namespace and service from the environment the stack sets, else Gatehouse and gatehouse', () => {
    vi.stubEnv(METRICS_NAMESPACE_ENV, 'Gatehouse/Prod');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'gatehouse');
    vi.stubEnv('POWERTOOLS_DEV', '');
    const fromEnv = new EmfMetrics();
    fromEnv.record('SweepWarned', {}, 2);
    fromEnv.flush();
    expect(documents()[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'Gatehouse/Prod', Dimensions: [['service']] }] },
      service: 'gatehouse',
      SweepWarned: 2,
    });

    vi.stubEnv(METRICS_NAMESPACE_ENV, '');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', '');
    const byDefault = new EmfMetrics();
    byDefault.record('SweepWarned', {}, 1);
    byDefault.flush();
    expect(documents()[0]).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'Gatehouse' }] }, service: 'gatehouse' });
  });

  it('writes the documents Powertools Metrics writes for the same records (the format CloudWatch is known to read)', () => {
    const normalized = (docs: EmfDocument[]) => docs.map((doc) => ({ ...doc, _aws: { ...doc._aws, Timestamp: 0 } }));
    const powertools = new PowertoolsMetrics({ namespace: 'Gatehouse/Test', serviceName: 'gatehouse' });
    const ours = new EmfMetrics(TEST_OPTIONS);
    // Every metric alone, then one latency series with several observations and two metrics sharing a document.
    const cases: Array<Array<{ name: MetricName; value: number }>> = [
      ...METRIC_NAMES.map((name) => [{ name, value: 3 }]),
      [
        { name: 'ReviewLatency', value: 12 },
        { name: 'ReviewLatency', value: 7.5 },
      ],
      [
        { name: 'SweepReads', value: 5 },
        { name: 'SweepFailed', value: 1 },
      ],
    ];
    for (const records of cases) {
      const dimensions = SAMPLES[records[0]!.name] as Record<string, string>;
      for (const { name, value } of records) ours.record(name, SAMPLES[name] as never, value);
      ours.flush();
      const written = normalized(documents());

      if (Object.keys(dimensions).length > 0) powertools.addDimensions(dimensions);
      for (const { name, value } of records) powertools.addMetric(name, METRIC_DEFINITIONS[name].unit, value);
      powertools.publishStoredMetrics();
      const expected = normalized(documents());

      expect(expected, records[0]!.name).toHaveLength(1);
      expect(JSON.stringify(written), records.map((r) => r.name).join('+')).toBe(JSON.stringify(expected));
    }
  });

  it('aggregates counts in memory with no I/O until the flush (the token path calls it on every request)', () => {
    const metrics = new EmfMetrics(TEST_OPTIONS);
    for (let i = 0; i < 10_000; i++) metrics.record('TokensIssued', { tier: 'public', risk: 'low' });
    expect(stdout).not.toHaveBeenCalled();
    metrics.flush();
    const docs = documents();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ TokensIssued: 10_000 });
  });
});
