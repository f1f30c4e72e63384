import { metricSeries, type MetricDimensions, type MetricName, type Metrics, type MetricUnit } from '../../core/metrics.js';

/** One metric with one set of dimension values, as recorded since the process started. */
export interface MetricSeries {
  readonly name: MetricName;
  readonly unit: MetricUnit;
  readonly dimensions: Readonly<Record<string, string>>;
  /** Sum of the values (a count's total; a latency's total seconds). */
  readonly sum: number;
  /** How many times it was recorded (a latency's number of observations). */
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

const round = (seconds: number): number => Math.round(seconds * 100) / 100;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The Metrics port for local mode and tests: in-memory counters (sum, count, min, max per metric and dimension values)
 * that live as long as the process. Nothing is published, so `flush` has nothing to do.
 */
export class MemoryMetrics implements Metrics {
  readonly #series = new Map<string, Mutable<MetricSeries>>();

  record<N extends MetricName>(name: N, dimensions: MetricDimensions[N], value = 1): void {
    if (!Number.isFinite(value)) return;
    const { key, definition, dimensions: dims } = metricSeries(name, dimensions);
    const series = this.#series.get(key);
    if (!series) {
      this.#series.set(key, { name, unit: definition.unit, dimensions: { ...dims }, sum: value, count: 1, min: value, max: value });
      return;
    }
    series.sum += value;
    series.count += 1;
    series.min = Math.min(series.min, value);
    series.max = Math.max(series.max, value);
  }

  flush(): void {
    // Counters are read in place (snapshot, total); there is nothing to publish.
  }

  /** Every series recorded so far, sorted by name and dimension values. */
  snapshot(): MetricSeries[] {
    return [...this.#series.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, s]) => ({ ...s, dimensions: { ...s.dimensions } }));
  }

  /**
   * One line per series for people: `TokensIssued tier=public risk=low  12` for counts, and observations with mean and
   * maximum for durations (`ReviewLatency kind=onboarding outcome=approved  2 × mean 60 s, max 90 s`).
   */
  summary(): string[] {
    return this.snapshot().map((s) => {
      const dims = Object.entries(s.dimensions)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('');
      const value = s.unit === 'Count' ? String(s.sum) : `${s.count} × mean ${round(s.sum / s.count)} s, max ${round(s.max)} s`;
      return `${s.name}${dims}  ${value}`;
    });
  }

  /** The sum of a metric over every series whose dimensions match `filter` (all of them when it is omitted). */
  total<N extends MetricName>(name: N, filter: Partial<MetricDimensions[N]> = {}): number {
    return this.#matching(name, filter).reduce((sum, s) => sum + s.sum, 0);
  }

  /** How many times a metric was recorded, over every series whose dimensions match `filter`. */
  count<N extends MetricName>(name: N, filter: Partial<MetricDimensions[N]> = {}): number {
    return this.#matching(name, filter).reduce((sum, s) => sum + s.count, 0);
  }

  /** Forgets everything recorded (tests). */
  reset(): void {
    this.#series.clear();
  }

  #matching(name: MetricName, filter: Readonly<Record<string, unknown>>): MetricSeries[] {
    return [...this.#series.values()].filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => v === undefined || s.dimensions[k] === v));
  }
}
