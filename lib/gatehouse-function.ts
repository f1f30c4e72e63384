import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_SERVICE } from '../lambdas/core/metrics.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { gatehouseBundling } from './bundling.js';
import type { FunctionSpec } from '../lambdas/contracts/functions.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { ManagedPolicyRole } from './managed-policy-role.js';

/** Repository root: entries in FUNCTIONS are relative to it, and esbuild runs from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export { ESM_REQUIRE_BANNER } from './bundling.js';

/** Environment every Gatehouse function gets, whatever it does (the service name is also its metrics' `service` dimension). */
export const BASE_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--enable-source-maps',
  POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
};

export interface GatehouseFunctionProps {
  /** Entry, memory and timeout of the function (from lambdas/contracts/functions.ts). */
  readonly spec: FunctionSpec;
  /**
   * The validated policy compiled into the bundle.
   * @default - none, for functions that never evaluate the policy (the resource-server authorizer)
   */
  readonly policy?: LoadedPolicy;
  /** Key the function's log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Environment on top of BASE_ENVIRONMENT.
   * @default - BASE_ENVIRONMENT only
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Description shown in the Lambda console.
   * @default - none
   */
  readonly description?: string;
  /**
   * Repository root the entry is resolved against and esbuild runs in.
   * @default PROJECT_ROOT
   */
  readonly projectRoot?: string;
  /**
   * Concurrent executions reserved for the function, overriding the spec's (e.g. the token function's, from context).
   * @default - spec.reservedConcurrency
   */
  readonly reservedConcurrency?: number;
}

/**
 * Why a function invoked this way needs no dead-letter queue of its own (cdk-nag NIST.800.53.R5-LambdaDLQ): a DLQ only
 * receives failed *asynchronous* invocations. `schedule` is missing on purpose: an asynchronously invoked function must
 * get a real dead-letter queue (LifecycleSweep sets it), and synthesis fails without one.
 */
const NO_DLQ_REASON: Readonly<Record<Exclude<FunctionSpec['invokedBy'], 'schedule'>, string>> = {
  api: 'API Gateway invokes the function synchronously (Lambda proxy integration): a failure is returned to the caller as a 5xx and counted by the function fault alarm; there is no asynchronous event that a dead-letter queue could keep.',
  'state-machine':
    "The review state machine invokes the function synchronously (lambda:invoke, RequestResponse): a failure is retried by the task's Retry policy and then caught (Catch States.ALL) into RecordFailure/NotifyFailure, and the execution history keeps the input; a dead-letter queue would never receive anything.",
  'secrets-manager':
    'Secrets Manager runs each rotation step itself: it retries a failed step, leaves AWSCURRENT untouched and records the failure on the secret, and the rotation alarm fires on the first function error; there is no event to keep in a dead-letter queue.',
  'custom-resource':
    'The custom-resource provider framework invokes the function synchronously and reports a failure to CloudFormation, which fails (and rolls back) the deployment; nothing runs unattended, so there is nothing for a dead-letter queue to keep.',
  'resource-server-api':
    'API Gateway invokes a REQUEST authorizer synchronously: a failure denies that one request (401/403/500 to the caller); there is no asynchronous event that a dead-letter queue could keep.',
};

/** Why Gatehouse functions run outside a VPC (cdk-nag NIST.800.53.R5-LambdaInsideVPC, PCI.DSS.321-LambdaInsideVPC). */
export const OUTSIDE_VPC_REASON =
  "Gatehouse functions reach AWS service APIs (DynamoDB, Secrets Manager, KMS, SES, Step Functions, X-Ray, CloudWatch Logs) over TLS with SigV4-signed, IAM-scoped calls, and no resource in a VPC (no database, cache or private endpoint); attaching a VPC would add NAT or seven interface endpoints and ENI cold starts without adding a control: network reach is not what authorises any of those calls, the function roles are. Besides those, the register, token, introspection and revocation functions fetch partners' published key sets (jwks_uri), which must be on the public internet: the fetcher refuses private, loopback, link-local and metadata addresses after resolving the name, so a VPC would not narrow what they reach.";

/** The Lambda runtime of every Gatehouse function; the bundles' esbuild target follows it. */
export const GATEHOUSE_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * One Gatehouse Lambda: Node 24 on arm64, X-Ray active, an encrypted log group with retention, a NodejsFunction ESM bundle
 * (with the policy compiled in when given), reserved concurrency from its spec, and its own role (permissions in a
 * customer-managed policy) that starts with nothing but writing to its own log group.
 */
export class GatehouseFunction extends Construct {
  /** The function. */
  public readonly function: lambda.Function;
  /** The function's role; grants are added by whoever gives the function a capability. */
  public readonly role: ManagedPolicyRole;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GatehouseFunctionProps) {
    super(scope, id);
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;

    this.logGroup = encryptedLogGroup(this, 'Logs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    // An explicit role instead of AWSLambdaBasicExecutionRole: that managed policy may create and write any log group.
    // Its grants go to a customer-managed policy of its own, not an inline policy (NIST/PCI IAMNoInlinePolicy).
    this.role = new ManagedPolicyRole(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Gatehouse function ${props.spec.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(projectRoot, props.spec.entry),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      handler: 'index.handler',
      bundling: gatehouseBundling(props.policy),
      runtime: GATEHOUSE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.spec.memorySize,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: props.description,
      environment: { ...BASE_ENVIRONMENT, ...props.environment },
      reservedConcurrentExecutions: props.reservedConcurrency ?? props.spec.reservedConcurrency,
    });
    acknowledgeCompliance(this.function, props.spec);

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (resource "*"); any other "*" on a Gatehouse function role is acknowledged where it is granted, naming its actions (asserted in test/lib/handler-functions.test.ts).',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `Gatehouse targets ${GATEHOUSE_RUNTIME.name}, the runtime the handlers and the esbuild target are built for; moving to a newer runtime is a deliberate upgrade, not a side effect of a CDK bump.`,
    });
  }
}

/**
 * The NIST 800-53 / PCI DSS findings every Gatehouse function leaves by design, acknowledged on the function with the
 * reason for its way of invocation; an asynchronously invoked function must have a dead-letter queue instead.
 */
function acknowledgeCompliance(fn: lambda.Function, spec: FunctionSpec): void {
  const acknowledgments = Validations.of(fn);
  acknowledgments.acknowledge(
    { id: 'NIST.800.53.R5-LambdaInsideVPC', reason: OUTSIDE_VPC_REASON },
    { id: 'PCI.DSS.321-LambdaInsideVPC', reason: OUTSIDE_VPC_REASON },
  );
  const invokedBy = spec.invokedBy;
  if (invokedBy !== 'schedule') {
    acknowledgments.acknowledge({ id: 'NIST.800.53.R5-LambdaDLQ', reason: NO_DLQ_REASON[invokedBy] });
    return;
  }
  fn.node.addValidation({
    validate: () => {
      const config = Stack.of(fn).resolve((fn.node.defaultChild as lambda.CfnFunction).deadLetterConfig) as { targetArn?: unknown } | undefined;
      return config?.targetArn === undefined ? [`GatehouseFunction: ${spec.entry} is invoked asynchronously (${invokedBy}) but has no dead-letter queue`] : [];
    },
  });
}
