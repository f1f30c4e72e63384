import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** `<LogicalId.Arn>` as cdk-nag renders a resource's ARN attribute in a finding. */
function arnToken(resource: IConstruct): string {
  const cfn = resource.node.defaultChild as CfnElement;
  return `<${Stack.of(cfn).getLogicalId(cfn)}.Arn>`;
}

/**
 * The cdk-nag IAM5 finding for `<resource ARN><suffix>` (e.g. `:*` for a function's versions, `/index/*` for a table's
 * indexes), so an acknowledgment names the one resource it covers instead of every wildcard in the policy.
 */
export function arnWildcardFinding(resource: IConstruct, suffix = ':*'): string {
  return `Resource::${arnToken(resource)}${suffix}`;
}
