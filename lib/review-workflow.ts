import { fileURLToPath } from 'node:url';
import { ArnFormat, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './log-encryption-key.js';
import { ManagedPolicyRole } from './managed-policy-role.js';
import { arnWildcardFinding } from './nag.js';

/** The onboarding state machine definition shared with local mode (resolved from this file, not the working directory). */
export const ONBOARDING_DEFINITION_PATH = fileURLToPath(new URL('../statemachines/onboarding.asl.json', import.meta.url));

export interface ReviewWorkflowProps {
  /** The function every task state of the definition invokes (`${ReviewTaskFunctionArn}`). */
  readonly reviewTaskFunction: lambda.IFunction;
  /** Key the execution log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * The ASL definition file.
   * @default ONBOARDING_DEFINITION_PATH
   */
  readonly definitionPath?: string;
  /**
   * How long execution logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the execution log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
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
    this.logGroup = encryptedLogGroup(this, 'Logs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const role = stateMachineRole(this, 'Role', 'Gatehouse onboarding review state machine');
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      role,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(props.definitionPath ?? ONBOARDING_DEFINITION_PATH),
      definitionSubstitutions: { ReviewTaskFunctionArn: props.reviewTaskFunction.functionArn },
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      comment: 'Gatehouse onboarding review',
    });
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
 * The role of a Gatehouse state machine: assumable only by Step Functions acting for a state machine of this account (as
 * the role StateMachine would create), its grants in a customer-managed policy, not an inline one (NIST/PCI
 * IAMNoInlinePolicy). The `*` resource StateMachine's logging and tracing grants need is acknowledged here.
 */
export function stateMachineRole(scope: Construct, id: string, description: string): ManagedPolicyRole {
  const stack = Stack.of(scope);
  const role = new ManagedPolicyRole(scope, id, {
    assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
      conditions: {
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
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
