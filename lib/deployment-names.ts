import { Aws, Fn, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A suffix unique to one CloudFormation stack instance: the first 8 hex digits of the UUID in its stack id
 * (`arn:…:stack/<name>/<uuid>`). It stays the same through every update of the stack and changes when the stack is
 * created again, so a resource that must be named and is retained after a delete (a `aws-waf-logs-*` log group, a backup
 * vault) never collides with the one an earlier deployment of the same stack name left behind. A context value would have
 * to be changed by hand after each destroy, and a hash of account, region and stack name is the same the second time.
 */
export function deploymentSuffix(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/**
 * `<prefix><stack name>-<what>-<deployment suffix>` within `maxLength` characters (the stack name is shortened when needed;
 * the suffix is always 8 characters).
 */
export function deploymentName(scope: IConstruct, what: string, options: { readonly prefix?: string; readonly maxLength: number }): string {
  const prefix = options.prefix ?? '';
  const room = options.maxLength - prefix.length - what.length - 2 - 8;
  if (room < 1) throw new Error(`deploymentName: ${prefix}${what} leaves no room for the stack name within ${options.maxLength} characters`);
  return `${prefix}${Stack.of(scope).stackName.slice(0, room)}-${what}-${deploymentSuffix()}`;
}
