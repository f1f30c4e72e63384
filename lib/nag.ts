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

/**
 * The cdk-nag IAM5 finding for a resource string built from tokens (e.g. a formatArn pattern ending in `*`), rendered as
 * cdk-nag flattens CloudFormation references: `Fn::Join` joined, `Ref` as `<Name>`, `Fn::GetAtt` as `<Id.Attr>`.
 */
export function resourceWildcardFinding(scope: IConstruct, resource: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(resource))}`;
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node;
  const value = node as Record<string, unknown>;
  if (Array.isArray(value['Fn::Join'])) {
    const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (Array.isArray(value['Fn::GetAtt'])) {
    const [id, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(id)}.${flatten(attribute)}>`;
  }
  if (value.Ref !== undefined) return `<${flatten(value.Ref)}>`;
  return JSON.stringify(node);
}
