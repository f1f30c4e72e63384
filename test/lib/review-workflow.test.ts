import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../lambdas/contracts/functions.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import type { HandlerFunctionName } from '../../lib/handler-functions.js';
import { ONBOARDING_DEFINITION_PATH } from '../../lib/review-workflow.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';
import { arnOf, logicalId, statementsOfRole, synthGatehouse, type Statement } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { FunctionName?: string };
}

const definitionText = readFileSync(ONBOARDING_DEFINITION_PATH, 'utf8');
const placeholders = [...new Set([...definitionText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))];

describe('ReviewWorkflow', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;
  let assemblyDir: string;

  beforeAll(() => {
    const synth = synthGatehouse();
    ({ stack, template } = synth);
    resources = template.toJSON().Resources as Resources;
    assemblyDir = synth.app.synth().directory;
  });

  const machine = () => resources[logicalId(stack.reviewWorkflow.stateMachine)]!.Properties;

  it("is one STANDARD state machine (the stack's other is the notice workflow)", () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    expect(machine().StateMachineType).toBe('STANDARD');
    expect(logicalId(stack.noticeWorkflow.stateMachine)).not.toBe(logicalId(stack.reviewWorkflow.stateMachine));
  });

  it('deploys the shared ASL file unchanged as its definition', () => {
    const location = machine().DefinitionS3Location as { Key: string };
    expect(readFileSync(join(assemblyDir, `asset.${location.Key}`), 'utf8')).toBe(definitionText);
  });

  it('substitutes every placeholder of the definition, the review-task function ARN included', () => {
    expect(placeholders).toEqual(['ReviewTaskFunctionArn']);
    expect(machine().DefinitionSubstitutions).toEqual({ ReviewTaskFunctionArn: arnOf(stack.handlers.functions['review-task']) });
  });

  it('invokes only the review-task function once the substitution is applied', () => {
    const resolved = JSON.parse(definitionText.replaceAll('${ReviewTaskFunctionArn}', 'REVIEW_TASK_ARN')) as { States: Record<string, AslState> };
    expect(JSON.stringify(resolved)).not.toContain('${');
    const tasks = Object.values(resolved.States).filter((s) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    // Outcome notifications (which send email) run in review-task too, so only review-task needs mail:send.
    for (const notify of ['NotifyRequester', 'NotifyFailure']) expect(resolved.States[notify]?.Type, notify).toBe('Task');
    for (const task of tasks) {
      expect(task.Resource).toMatch(/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/);
      expect(task.Parameters?.FunctionName).toBe('REVIEW_TASK_ARN');
    }
  });

  it('logs all events without execution data to an encrypted log group kept a year, under /aws/vendedlogs/states/<stack>-', () => {
    expect(machine().LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(stack.reviewWorkflow.logGroup) } }],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
    expect(resources[logicalId(stack.reviewWorkflow.logGroup)]!.Properties).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['/aws/vendedlogs/states/Gatehouse-review-', DEPLOYMENT_SUFFIX]] },
      KmsKeyId: arnOf(stack.logEncryptionKey.key),
      RetentionInDays: 365,
    });
  });

  it('traces executions with X-Ray', () => {
    expect(machine().TracingConfiguration).toEqual({ Enabled: true });
  });

  it('lets its role invoke only the review-task function and its versions', () => {
    const role = logicalId(stack.reviewWorkflow.stateMachine.role);
    const fn = arnOf(stack.handlers.functions['review-task']);
    const statements = statementsOfRole(template, role) as Statement[];
    const lambdaStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')));
    expect(lambdaStatements).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [fn, { 'Fn::Join': ['', [fn, ':*']] }] }]);
  });

  it('uses "*" only for X-Ray and CloudWatch Logs delivery actions, which have no resource-level permissions', () => {
    const role = logicalId(stack.reviewWorkflow.stateMachine.role);
    const wildcard = (statementsOfRole(template, role) as Statement[]).filter((s) => [s.Resource].flat().includes('*'));
    const actions = wildcard.flatMap((s) => [s.Action].flat());
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(action).toMatch(
        /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(Create|Get|Update|Delete|List)LogDeliver(y|ies)|logs:(PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/,
      );
    }
  });

  it('lets only the functions with workflow:start start executions', () => {
    const review = JSON.stringify({ Ref: logicalId(stack.reviewWorkflow.stateMachine) });
    const starters = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
      .filter((r) =>
        (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
          (st) => [st.Action].flat().includes('states:StartExecution') && JSON.stringify(st.Resource).includes(review),
        ),
      )
      .map((r) => (r.Properties.Roles as Array<{ Ref: string }>)[0]!.Ref);
    const expected = (Object.keys(FUNCTIONS) as HandlerFunctionName[])
      .filter((n) => FUNCTIONS[n].capabilities.includes('workflow:start'))
      .map((n) => logicalId(stack.handlers.constructsByName[n].role));
    expect(expected).toEqual(
      ['register', 'recertification', 'admin', 'registration-manage', 'sweep'].map((n) =>
        logicalId(stack.handlers.constructsByName[n as HandlerFunctionName].role),
      ),
    );
    expect(starters.sort()).toEqual(expected.sort());
  });

  it("runs under a role Step Functions may assume only for this account's state machines, with a customer-managed policy", () => {
    const role = resources[logicalId(stack.reviewWorkflow.stateMachine.role)]!.Properties;
    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Principal: { Service: 'states.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': expect.anything() } },
        },
      ],
    });
    expect(role.Policies).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Policy', 0);
    expect(statementsOfRole(template, logicalId(stack.reviewWorkflow.stateMachine.role)).length).toBeGreaterThan(0);
  });
});
