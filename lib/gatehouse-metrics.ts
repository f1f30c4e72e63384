import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';
import { METRIC_DEFINITIONS, METRICS_SERVICE, stackMetricsNamespace, type MetricDimensions, type MetricName } from '../lambdas/core/metrics.js';

/**
 * Gatehouse's own metrics (the EMF the functions publish, lambdas/core/metrics.ts) in CDK terms, for the dashboard and
 * the alarms: same namespace, names and dimensions as the adapter, from the same module.
 */

/** One series of a metric: its dimension values (`service` added), in the namespace of `scope`'s stack. */
export function gatehouseMetric<N extends MetricName>(
  scope: IConstruct,
  name: N,
  dimensions: MetricDimensions[N],
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: stackMetricsNamespace(Stack.of(scope).stackName),
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE, ...(dimensions as Readonly<Record<string, string>>) },
    ...options,
  });
}

/**
 * The CloudWatch SEARCH expression (a string) that finds every series of a metric, one per combination of its dimension
 * values that has data, in `scope`'s stack namespace: new tiers, error codes or actions show up without a redeploy.
 */
export function metricSearch(scope: IConstruct, name: MetricName, statistic: string, period: Duration): string {
  const schema = [`"${stackMetricsNamespace(Stack.of(scope).stackName)}"`, 'service', ...METRIC_DEFINITIONS[name].dimensions].join(',');
  return `SEARCH('{${schema}} service="${METRICS_SERVICE}" MetricName="${name}"', '${statistic}', ${period.toSeconds()})`;
}

/** A CloudWatch dynamic label naming a series by its dimension values (e.g. `public low`), or the metric name without any. */
export function dimensionLabel(name: MetricName): string {
  const dimensions = METRIC_DEFINITIONS[name].dimensions;
  return dimensions.length === 0 ? name : dimensions.map((d) => `\${PROP('Dim.${d}')}`).join(' ');
}

/** A graph line per series of a metric (by its dimensions); dashboards only (CloudWatch alarms take no SEARCH). */
export function gatehouseMetricSearch(
  scope: IConstruct,
  name: MetricName,
  options: { readonly statistic?: string; readonly period?: Duration; readonly label?: string } = {},
): cloudwatch.SearchExpression {
  const period = options.period ?? Duration.minutes(5);
  return new cloudwatch.SearchExpression({
    expression: metricSearch(scope, name, options.statistic ?? cloudwatch.Stats.SUM, period),
    period,
    label: options.label ?? dimensionLabel(name),
  });
}
