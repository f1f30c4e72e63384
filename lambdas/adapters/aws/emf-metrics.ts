import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { METRIC_DEFINITIONS, metricSeries, METRICS_NAMESPACE, METRICS_SERVICE, type MetricDimensions, type MetricName, type Metrics } from '../../core/metrics.js';
import type { Log } from '../../core/services.js';
import { METRICS_NAMESPACE_ENV } from './env.js';

/** EMF allows 100 values per metric in one document; Powertools publishes early when one reaches that. */
const MAX_VALUES_PER_DOCUMENT = 99;

interface Series {
  readonly name: MetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Counts are summed into one value; observations (latencies) are kept one by one, for percentiles. */
  readonly values: number[];
}

export interface EmfMetricsOptions {
  /**
   * The Powertools instance that writes the EMF documents.
   * @default one for POWERTOOLS_METRICS_NAMESPACE (else `Gatehouse`) and POWERTOOLS_SERVICE_NAME (else `gatehouse`)
   */
  readonly metrics?: PowertoolsMetrics;
  /** Where a failure to publish is reported (at error level, so the function's fault alarm sees it). */
  readonly log?: Log;
}

/**
 * The Metrics port over Powertools Metrics: `record` adds to an in-memory buffer (no I/O, no await), and `flush` writes one
 * CloudWatch Embedded Metric Format document per dimension set to stdout, which CloudWatch turns into metrics. Powertools
 * gives all metrics of one document the same dimensions, so the buffer groups them first. No cold-start metric: Lambda's
 * own Init Duration (REPORT lines, X-Ray) already tells cold starts, and it would add a document per cold start.
 */
export class EmfMetrics implements Metrics {
  readonly #emf: PowertoolsMetrics;
  readonly #log: Log | undefined;
  readonly #series = new Map<string, Series>();

  constructor(options: EmfMetricsOptions = {}) {
    this.#emf =
      options.metrics ??
      new PowertoolsMetrics({
        namespace: process.env[METRICS_NAMESPACE_ENV] || METRICS_NAMESPACE,
        serviceName: process.env['POWERTOOLS_SERVICE_NAME'] || METRICS_SERVICE,
      });
    this.#log = options.log;
  }

  record<N extends MetricName>(name: N, dimensions: MetricDimensions[N], value = 1): void {
    if (!Number.isFinite(value)) return;
    const { key, definition, dimensions: dims } = metricSeries(name, dimensions);
    const series = this.#series.get(key);
    if (!series) {
      this.#series.set(key, { name, dimensions: { ...dims }, values: [value] });
    } else if (definition.unit === 'Count') {
      series.values[0]! += value;
    } else {
      series.values.push(value);
    }
  }

  flush(): void {
    if (this.#series.size === 0) return;
    const groups = new Map<string, Series[]>();
    for (const series of this.#series.values()) {
      const dimensionKey = JSON.stringify(Object.entries(series.dimensions).sort(([a], [b]) => a.localeCompare(b)));
      const group = groups.get(dimensionKey);
      if (group) group.push(series);
      else groups.set(dimensionKey, [series]);
    }
    this.#series.clear();
    try {
      for (const group of groups.values()) this.#publish(group);
    } catch (error) {
      this.#emf.clearMetrics();
      this.#emf.clearDimensions();
      this.#log?.error('metrics not published', { error: (error as Error).name, message: (error as Error).message });
    }
  }

  /** One document per dimension set (more only if a latency was observed more than 99 times in one invocation). */
  #publish(group: readonly Series[]): void {
    const dimensions = group[0]!.dimensions;
    for (let offset = 0; group.some((s) => s.values.length > offset); offset += MAX_VALUES_PER_DOCUMENT) {
      if (Object.keys(dimensions).length > 0) this.#emf.addDimensions({ ...dimensions });
      for (const series of group) {
        const unit = METRIC_DEFINITIONS[series.name].unit;
        for (const value of series.values.slice(offset, offset + MAX_VALUES_PER_DOCUMENT)) this.#emf.addMetric(series.name, unit, value);
      }
      this.#emf.publishStoredMetrics();
    }
  }
}
