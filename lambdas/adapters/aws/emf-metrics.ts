import {
  METRIC_DEFINITIONS,
  metricSeries,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type MetricDimensions,
  type MetricName,
  type Metrics,
} from '../../core/metrics.js';
import type { Log } from '../../core/services.js';
import { METRICS_NAMESPACE_ENV } from './env.js';

/** EMF allows 100 values per metric in one document; a longer series is spread over several. */
const MAX_VALUES_PER_DOCUMENT = 99;

interface Series {
  readonly name: MetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Counts are summed into one value; observations (latencies) are kept one by one, for percentiles. */
  readonly values: number[];
}

export interface EmfMetricsOptions {
  /** @default POWERTOOLS_METRICS_NAMESPACE, else `Gatehouse` */
  readonly namespace?: string;
  /** The `service` dimension of every metric. @default POWERTOOLS_SERVICE_NAME, else `gatehouse` */
  readonly service?: string;
  /** Where each document goes, one JSON line each. @default process.stdout, past the Lambda runtime's console formatting */
  readonly write?: (line: string) => void;
  /** Where a failure to publish is reported (at error level, so the function's fault alarm sees it). */
  readonly log?: Log;
}

/**
 * The Metrics port in CloudWatch Embedded Metric Format: `record` adds to an in-memory buffer (no I/O, no await), and
 * `flush` writes one EMF document per dimension set to stdout, which CloudWatch Logs turns into metrics. The documents
 * are the ones Powertools Metrics writes (namespace, `service` plus the metric's own dimensions, values at the top
 * level); Gatehouse writes them itself because its metric vocabulary is fixed and typed (lambdas/core/metrics.ts), which
 * leaves nothing for Powertools' run-time checks to catch, and Powertools Metrics was about 10 KB of every bundle. Raw
 * stdout, not `console.log`: with Lambda's JSON log format the runtime wraps console lines in a log record, which
 * CloudWatch would not read as EMF. No cold-start metric: Lambda's own Init Duration already tells cold starts.
 */
export class EmfMetrics implements Metrics {
  readonly #namespace: string;
  readonly #service: string;
  readonly #write: (line: string) => void;
  readonly #log: Log | undefined;
  readonly #series = new Map<string, Series>();

  constructor(options: EmfMetricsOptions = {}) {
    this.#namespace = options.namespace || process.env[METRICS_NAMESPACE_ENV] || METRICS_NAMESPACE;
    this.#service = options.service || process.env['POWERTOOLS_SERVICE_NAME'] || METRICS_SERVICE;
    this.#write = options.write ?? ((line) => process.stdout.write(line));
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
      const timestamp = Date.now();
      for (const group of groups.values()) this.#publish(group, timestamp);
    } catch (error) {
      this.#log?.error('metrics not published', { error: (error as Error).name, message: (error as Error).message });
    }
  }

  /** One document per dimension set (more only if a latency was observed more than 99 times in one invocation). */
  #publish(group: readonly Series[], timestamp: number): void {
    const dimensions = { service: this.#service, ...group[0]!.dimensions };
    for (let offset = 0; group.some((s) => s.values.length > offset); offset += MAX_VALUES_PER_DOCUMENT) {
      const metrics: Array<{ Name: MetricName; Unit: string }> = [];
      const values: Record<string, number | number[]> = {};
      for (const series of group) {
        const slice = series.values.slice(offset, offset + MAX_VALUES_PER_DOCUMENT);
        if (slice.length === 0) continue;
        metrics.push({ Name: series.name, Unit: METRIC_DEFINITIONS[series.name].unit });
        values[series.name] = slice.length === 1 ? slice[0]! : slice;
      }
      const document = {
        _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: this.#namespace, Dimensions: [Object.keys(dimensions)], Metrics: metrics }] },
        ...dimensions,
        ...values,
      };
      this.#write(`${JSON.stringify(document)}\n`);
    }
  }
}
