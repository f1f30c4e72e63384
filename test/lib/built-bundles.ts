import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { GatehouseAuthorizer } from '../../lib/gatehouse-authorizer.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { defaultConfig, logicalId, testApp } from './stack-fixture.js';

/** One Lambda function's code as `cdk synth` wrote it into the cloud assembly, with what its template gives it. */
export interface BuiltBundle {
  /** The handler name in FUNCTIONS, or `signing-key-init`, `signing-key-rotation`, `authorizer`. */
  readonly name: string;
  /** The asset directory (what CDK zips and uploads). */
  readonly dir: string;
  /** The module the Lambda handler `index.handler` loads: `index.mjs` (ESM) or `index.js`. */
  readonly file: string;
  /** The function's environment in the template; values CloudFormation resolves at deploy time are left as tokens. */
  readonly environment: Readonly<Record<string, unknown>>;
  readonly runtime: string;
  readonly memorySize: number;
}

interface CfnFunction {
  readonly Type: string;
  readonly Properties: {
    readonly Code: { readonly S3Key: string };
    readonly Handler: string;
    readonly Runtime: string;
    readonly MemorySize: number;
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/**
 * Synthesizes the Gatehouse stack with bundling on, exactly as `cdk synth` does (cdk.json's context and defaults), plus
 * the resource-server authorizer in a stack of its own, and returns every function's built code by name.
 */
export function synthBuiltBundles(): BuiltBundle[] {
  const app = testApp(true);
  const stack = new GatehouseStack(app, 'Gatehouse', defaultConfig());
  const authorizerStack = new Stack(app, 'ResourceServer');
  const authorizer = new GatehouseAuthorizer(authorizerStack, 'Authorizer', {
    issuer: 'https://gatehouse.example/v1',
    audience: 'https://api.bank.example',
    routeScopes: { 'GET /accounts/{id}': ['accounts:read'] },
  });
  // A resource server's API the authorizer guards (it must be attached to one to synthesize).
  new apigateway.RestApi(authorizerStack, 'Api').root
    .resourceForPath('/accounts/{id}')
    .addMethod('GET', new apigateway.MockIntegration(), { authorizer: authorizer.authorizer });
  const assembly = app.synth();
  const functions: Array<[string, lambda.Function]> = [
    ...Object.entries(stack.handlers.functions),
    ['signing-key-init', stack.signingKey.initFunction.function],
    ['signing-key-rotation', stack.signingKey.rotationFunction.function],
    ['authorizer', authorizer.function],
  ];
  return functions.map(([name, fn]) => {
    const template = assembly.getStackArtifact(Stack.of(fn).artifactId).template as { Resources: Record<string, CfnFunction> };
    const resource = template.Resources[logicalId(fn)];
    if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`${name}: no AWS::Lambda::Function ${logicalId(fn)} in the template`);
    const { Code, Handler, Runtime, MemorySize, Environment } = resource.Properties;
    const dir = join(assembly.directory, `asset.${Code.S3Key.replace(/\.zip$/, '')}`);
    const base = Handler.slice(0, Handler.lastIndexOf('.'));
    const file = [`${base}.mjs`, `${base}.js`].map((f) => join(dir, f)).find((f) => existsSync(f));
    if (!file) throw new Error(`${name}: the asset ${dir} has no ${base}.mjs or ${base}.js for handler ${Handler}`);
    return { name, dir, file, environment: Environment?.Variables ?? {}, runtime: Runtime, memorySize: MemorySize };
  });
}

/** Fake deploy-time values for the variables whose template values are tokens (ARNs, names, the API's URL). */
export const DEPLOY_TIME_VALUES: Readonly<Record<string, string>> = {
  [ENV.tableName]: 'Gatehouse-RegistryTable-SMOKE',
  [ENV.signingKeySecretId]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/signing-key-AbCdEf',
  [ENV.publicKeysSecretId]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse/signing-public-keys-AbCdEf',
  [ENV.stateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Gatehouse-Onboarding',
  [ENV.noticeStateMachineArn]: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Gatehouse-Notices',
  [ENV.issuer]: 'https://gatehouse.example/v1',
  [ENV.clientSecretKeyId]: 'arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000',
  [ENV.clientSecretRotationArn]: 'arn:aws:lambda:eu-west-1:123456789012:function:Gatehouse-ClientSecretRotation',
};

/**
 * What a function sees in Lambda: the runtime's variables (fake role credentials), no shared AWS config files, and its
 * template environment with `values` (by default DEPLOY_TIME_VALUES) in place of tokens. No variable of the process
 * running the test leaks in but PATH. Throws for a token it has no value for, so a new variable is not silently missed.
 */
export function lambdaEnvironment(bundle: BuiltBundle, extra: Readonly<Record<string, string>> = {}, values = DEPLOY_TIME_VALUES): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_EXECUTION_ENV: `AWS_Lambda_${bundle.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: `Gatehouse-${bundle.name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(bundle.memorySize),
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_ACCESS_KEY_ID: 'ASIAFAKEFAKEFAKEFAKE',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
    AWS_SESSION_TOKEN: 'fake-session-token',
    AWS_CONFIG_FILE: join(bundle.dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(bundle.dir, 'no-aws-credentials'),
    LAMBDA_TASK_ROOT: bundle.dir,
    _HANDLER: 'index.handler',
    TZ: ':UTC',
  };
  for (const [name, value] of Object.entries(bundle.environment)) {
    const resolved = typeof value === 'string' ? value : values[name];
    if (resolved === undefined) throw new Error(`${bundle.name}: no test value for ${name}, which the template sets to ${JSON.stringify(value)}`);
    env[name] = resolved;
  }
  return { ...env, ...extra };
}
