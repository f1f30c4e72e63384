import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Validations, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { POLICY_DEFINE } from '../lambdas/adapters/aws/env.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import type { FunctionSpec } from './functions.js';
import { encryptedLogGroup } from './log-encryption-key.js';

/** Repository root: entries in FUNCTIONS are relative to it, and esbuild runs from it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Lets CommonJS dependencies inside an ESM bundle call `require` for Node built-ins. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * esbuild options shared by every Gatehouse function. The validated policy document, when given, is compiled in under
 * POLICY_DEFINE as a string literal (esbuild `define` values are JS expressions, hence the double JSON.stringify), so at
 * runtime `__GATEHOUSE_POLICY__` is a string holding the policy JSON and no function reads the policy from anywhere else.
 *
 * The AWS SDK is bundled rather than taken from the runtime: the versions pinned in package-lock.json are the ones that
 * were tested, and esbuild tree-shakes them.
 */
export function gatehouseBundling(policy?: LoadedPolicy): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: true,
    sourceMapMode: nodejs.SourceMapMode.DEFAULT,
    sourcesContent: false,
    externalModules: [],
    ...(policy ? { define: { [POLICY_DEFINE]: JSON.stringify(JSON.stringify(policy.document)) } } : {}),
  };
}

/** Environment every Gatehouse function gets, whatever it does. */
export const BASE_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--enable-source-maps',
  POWERTOOLS_SERVICE_NAME: 'gatehouse',
};

export interface GatehouseFunctionProps {
  /** Entry, memory and timeout of the function (from lib/functions.ts). */
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
   * @default RemovalPolicy.RETAIN
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
}

/**
 * One Gatehouse Lambda: Node 22 on arm64, X-Ray active, an encrypted log group with retention, a local esbuild ESM bundle
 * (with the policy compiled in when given), and its own role that starts with nothing but writing to its own log group.
 */
export class GatehouseFunction extends Construct {
  /** The function. */
  public readonly function: nodejs.NodejsFunction;
  /** The function's role; grants are added by whoever gives the function a capability. */
  public readonly role: iam.Role;
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
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Gatehouse function ${props.spec.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(projectRoot, props.spec.entry),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.spec.memorySize,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: props.description,
      environment: { ...BASE_ENVIRONMENT, ...props.environment },
      bundling: gatehouseBundling(props.policy),
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (resource "*"); any other "*" on a Gatehouse function role is acknowledged where it is granted, naming its actions (asserted in test/lib/handler-functions.test.ts).',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `Gatehouse targets Node.js 22 (${lambda.Runtime.NODEJS_22_X.name}), the runtime the handlers, the esbuild target and the tests are built for; moving to a newer runtime is a deliberate upgrade, not a side effect of a CDK bump.`,
    });
  }
}
