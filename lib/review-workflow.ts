import { fileURLToPath } from 'node:url';
import { ArnFormat, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deploymentName } from './deployment-names.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { ManagedPolicyRole } from './managed-policy-role.js';
import { arnWildcardFinding } from './nag.js';

/** The onboarding state machine definition shared with local mode (resolved from this file, not the working directory). */
export const ONBOARDING_DEFINITION_PATH = fileURLToPath(new URL('../statemachines/onboarding.asl.json', import.meta.url));

/** Where a Gatehouse state machine logs its executions. */
export interface ExecutionLogProps {
  /** Key the execution log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the execution log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export interface ReviewWorkflowProps extends ExecutionLogProps {
  /** The function every task state of the definition invokes (`${ReviewTaskFunctionArn}`). */
  readonly reviewTaskFunction: lambda.IFunction;
  /**
   * The ASL definition file.
   * @default ONBOARDING_DEFINITION_PATH
   */
  readonly definitionPath?: string;
}

/**
 * The human-review workflow: a STANDARD state machine (reviews wait up to the review SLA, days) from the shared ASL file.
 * Logs every event but never execution data, because inputs and outputs carry task tokens and the partner's request.
 */
export class ReviewWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Where execution history events are logged. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReviewWorkflowProps) {
    super(scope, id);
    const role = stateMachineRole(this, 'Role', 'Gatehouse onboarding review state machine');
    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = standardStateMachine(this, props, {
      role,
      definitionPath: props.definitionPath ?? ONBOARDING_DEFINITION_PATH,
      definitionSubstitutions: { ReviewTaskFunctionArn: props.reviewTaskFunction.functionArn },
      comment: 'Gatehouse onboarding review',
      logName: 'review',
    }));
    // The definition is opaque to CDK, so the one function it calls is granted here: the function and its versions.
    props.reviewTaskFunction.grantInvoke(this.stateMachine);

    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[${arnWildcardFinding(props.reviewTaskFunction)}]`,
      reason:
        'lambda:InvokeFunction on `<review-task ARN>:*` covers only versions and aliases of the one review-task function, which the state machine may call qualified.',
    });
  }
}

/**
 * A Gatehouse state machine (`StateMachine` and its `Logs` in `scope`): STANDARD, from a shared ASL file, under `role`,
 * logging every event but never execution data to a log group under the logs key, and traced with X-Ray. The log group
 * is `/aws/vendedlogs/states/<stack>-<logName>-<deployment suffix>`: under that prefix CloudWatch Logs needs no resource
 * policy entry per log group, so the state machine is created even where the account's logs resource policy (5,120
 * characters) is full; the suffix keeps a retained group from colliding with the next deployment's.
 */
export function standardStateMachine(
  scope: Construct,
  log: ExecutionLogProps,
  machine: {
    readonly role: iam.IRole;
    readonly definitionPath: string;
    readonly definitionSubstitutions: Record<string, string>;
    readonly comment: string;
    /** What the log group name calls the state machine (`review`, `notice`). */
    readonly logName: string;
  },
): { stateMachine: sfn.StateMachine; logGroup: logs.LogGroup } {
  const logGroup = encryptedLogGroup(scope, 'Logs', {
    logGroupName: deploymentName(scope, machine.logName, { prefix: '/aws/vendedlogs/states/', maxLength: 512 }),
    encryptionKey: log.logEncryptionKey,
    retention: log.logRetention,
    removalPolicy: log.logRemovalPolicy,
  });
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    role: machine.role,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromFile(machine.definitionPath),
    definitionSubstitutions: machine.definitionSubstitutions,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    tracingEnabled: true,
    comment: machine.comment,
  });
  return { stateMachine, logGroup };
}

/**
 * The role of a Gatehouse state machine: assumable only by Step Functions acting for a state machine of this account (as
 * the role StateMachine would create), its grants in a customer-managed policy, not an inline one (NIST/PCI
 * IAMNoInlinePolicy). The `*` resource StateMachine's logging and tracing grants need is acknowledged here.
 */
export function stateMachineRole(scope: Construct, id: string, description: string): ManagedPolicyRole {
  const stack = Stack.of(scope);
  const role = new ManagedPolicyRole(scope, id, {
    assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
      conditions: {
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        },
        StringEquals: { 'aws:SourceAccount': stack.account },
      },
    }),
    description,
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Resource "*" only for actions without resource-level permissions: X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and CloudWatch Logs vended delivery (logs:CreateLogDelivery etc.), as documented for Step Functions logging; no other statement uses "*" (asserted in test/lib/review-workflow.test.ts and test/lib/notice-workflow.test.ts).',
  });
  return role;
}
