import { describe, expect, it } from 'vitest';
import { METRIC_DEFINITIONS, METRIC_NAMES, METRICS_NAMESPACE, stackMetricsNamespace, SWEEP_METRICS } from '../../../lambdas/core/metrics.js';

describe('the metrics vocabulary', () => {
  it('names every metric once, with a CloudWatch unit and at most two low-cardinality dimensions besides service', () => {
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
    for (const name of METRIC_NAMES) {
      const { unit, dimensions } = METRIC_DEFINITIONS[name];
      expect(name).toMatch(/^[A-Z][A-Za-z]{2,63}$/);
      expect(['Count', 'Seconds']).toContain(unit);
      expect(dimensions.length, name).toBeLessThanOrEqual(2);
      expect(dimensions, name).not.toContain('service');
      // Nothing per consumer or per secret: a dimension is one of these closed sets.
      for (const d of dimensions) expect(['tier', 'risk', 'error', 'path', 'decision', 'kind', 'outcome', 'action']).toContain(d);
    }
    expect(SWEEP_METRICS.every((name) => METRIC_DEFINITIONS[name].dimensions.length === 0)).toBe(true);
  });

  it('scopes the namespace to a stack as the log metric filters are (Gatehouse/<stack name>)', () => {
    expect(METRICS_NAMESPACE).toBe('Gatehouse');
    expect(stackMetricsNamespace('gatehouse-prod')).toBe('Gatehouse/gatehouse-prod');
  });
});
