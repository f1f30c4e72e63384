import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/** Lambda refuses a function whose environment (keys and values) exceeds 4 KB. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** What synth allows, leaving room for values only known at deploy time being longer than estimated. */
export const ENVIRONMENT_BUDGET_BYTES = 3584;

/** Longest value of each pseudo parameter (region `ap-southeast-2`-like, partition `aws-iso-b`, URL suffix `amazonaws.com.cn`). */
const PSEUDO_PARAMETER_BYTES: Readonly<Record<string, number>> = {
  'AWS::Region': 16,
  'AWS::AccountId': 12,
  'AWS::Partition': 10,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
};

/**
 * A conservative length for a reference resolved at deploy time (a generated table name, a secret, key or state machine
 * ARN with the stack name and CloudFormation's random suffix in it).
 */
const REFERENCE_BYTES = 192;

/** The bytes a resolved CloudFormation value may take once deployed: literal parts exactly, references by estimate. */
export function estimatedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + estimatedBytes(item), 0);
  const node = value as Record<string, unknown>;
  if (typeof node.Ref === 'string') return PSEUDO_PARAMETER_BYTES[node.Ref] ?? REFERENCE_BYTES;
  if (Array.isArray(node['Fn::Join'])) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.reduce<number>((sum, item) => sum + estimatedBytes(item), 0) + Buffer.byteLength(delimiter) * Math.max(items.length - 1, 0);
  }
  return REFERENCE_BYTES;
}

/** The estimated size of a function's environment: every key and value, in bytes. */
export function environmentBytes(fn: lambda.CfnFunction): { total: number; byVariable: Record<string, number> } {
  const environment = Stack.of(fn).resolve(fn.environment) as { variables?: Record<string, unknown>; Variables?: Record<string, unknown> } | undefined;
  const variables = environment?.Variables ?? environment?.variables ?? {};
  const byVariable = Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, Buffer.byteLength(key) + estimatedBytes(value)]));
  return { total: Object.values(byVariable).reduce((sum, bytes) => sum + bytes, 0), byVariable };
}

/**
 * Fails synthesis when a function of `scope` could exceed Lambda's 4 KB environment once deployed (ENVIRONMENT_BUDGET_BYTES,
 * references counted by a conservative estimate), naming the function and its largest variables: otherwise the
 * deployment would fail on that function and roll back.
 */
export function checkEnvironmentSizes(scope: IConstruct, budget = ENVIRONMENT_BUDGET_BYTES): void {
  scope.node.addValidation({
    validate: () =>
      scope.node
        .findAll()
        .filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction)
        .flatMap((fn) => {
          const { total, byVariable } = environmentBytes(fn);
          if (total <= budget) return [];
          const largest = Object.entries(byVariable)
            .sort(([, a], [, b]) => b - a)
            .slice(0, 3)
            .map(([key, bytes]) => `${key} ${bytes} bytes`)
            .join(', ');
          return [
            `${fn.node.path}: its environment may take ${total} bytes once deployed, over the ${budget} bytes Gatehouse allows under Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}-byte limit (largest: ${largest}). Shorten the reviewers (distribution lists) or the software-statement JWKS (fewer or smaller keys).`,
          ];
        }),
  });
}
