import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { loadAppConfig } from '../../lib/app-config.js';
import { GatehouseStack, type GatehouseStackProps } from '../../lib/gatehouse-stack.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';

/** The context of cdk.json (feature flags and defaults), so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

/**
 * An app with cdk.json's context that skips bundling unless `bundle` is set. CDK's built-in CloudFormation validation
 * (a WebAssembly rule engine, about 4 s of CPU a synthesis) is left to the runs of the real app (`bin/gatehouse.ts`
 * through its entry point, and `cfn-lint` in CI): here it only reports warnings no test reads.
 */
export function testApp(bundle = false): App {
  // Stack traces on construct metadata are for debugging apps; collecting them slows the suite down.
  return new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), 'aws:cdk:disable-stack-trace': true, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

/** The app's default configuration (cdk.json defaults: committed policy and example JWKS). */
export function defaultConfig(): Omit<GatehouseStackProps, 'env'> {
  return loadAppConfig(() => undefined, PROJECT_ROOT);
}

/**
 * A GatehouseStack in an app that skips bundling (`aws:cdk:bundling-stacks: []`, what Stack.bundlingRequired reads), so
 * no esbuild runs: the suite stays fast and does not depend on the handler modules.
 */
export function synthGatehouse(overrides: Partial<GatehouseStackProps> = {}): { app: App; stack: GatehouseStack; template: Template } {
  // The default stack is synthesized once per worker (test files share modules, see vitest.config.ts) and only read.
  if (Object.keys(overrides).length === 0) return (defaultStack ??= synthesize({}));
  return synthesize(overrides);
}

let defaultStack: { app: App; stack: GatehouseStack; template: Template } | undefined;

function synthesize(overrides: Partial<GatehouseStackProps>): { app: App; stack: GatehouseStack; template: Template } {
  const app = testApp();
  const stack = new GatehouseStack(app, 'Gatehouse', { ...defaultConfig(), ...overrides });
  return { app, stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource, as the template spells it. */
export function logicalId(construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` of a construct. */
export function arnOf(construct: IConstruct): { 'Fn::GetAtt': [string, string] } {
  return { 'Fn::GetAtt': [logicalId(construct), 'Arn'] };
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of the IAM policies (inline or customer-managed) attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = { ...template.findResources('AWS::IAM::Policy'), ...template.findResources('AWS::IAM::ManagedPolicy') };
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Statements with their Action lists sorted, for order-insensitive comparison. */
export function sortedActions(statements: readonly Statement[]): Statement[] {
  return statements.map((s) => ({ ...s, Action: Array.isArray(s.Action) ? [...s.Action].sort() : s.Action }));
}

/** Every action a role's policies allow. */
export function actionsOfRole(template: Template, roleLogicalId: string): string[] {
  return statementsOfRole(template, roleLogicalId).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
