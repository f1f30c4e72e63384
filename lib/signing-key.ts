import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ENV, METRICS_NAMESPACE_ENV } from '../lambdas/adapters/aws/env.js';
import { stackMetricsNamespace } from '../lambdas/core/metrics.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { previousOverlapMs } from '../lambdas/core/tokens/signing-keys.js';
import { linkKeyOverlapMs } from '../lambdas/core/review/link-token.js';
import { SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, type FunctionSpec } from '../lambdas/contracts/functions.js';
import { GatehouseFunction, OUTSIDE_VPC_REASON } from './gatehouse-function.js';
import type { SigningKeyAccess } from './handler-functions.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { arnWildcardFinding } from './nag.js';
import { ManagedPolicyRole } from './managed-policy-role.js';
import { grantTableAccess } from './registry-table.js';

/** How long a new key is published before it signs, in seconds; read by lambdas/functions/signing-key-rotation.ts. */
export const KEY_PUBLISH_DELAY_ENV = 'GATEHOUSE_KEY_PUBLISH_DELAY_SECONDS';

/**
 * How long the previous key must stay published after the current one starts signing, in seconds (the policy's longest
 * access-token lifetime plus 5 minutes); the rotation function refuses to rotate sooner. Read by
 * lambdas/functions/signing-key-rotation.ts.
 */
export const KEY_OVERLAP_ENV = 'GATEHOUSE_KEY_OVERLAP_SECONDS';

/** The previous-key overlap a policy needs (its longest access-token lifetime plus 5 minutes). */
export function previousKeyOverlap(policy: LoadedPolicy): Duration {
  return Duration.seconds(Math.ceil(previousOverlapMs(policy) / 1000));
}

/** The longest publish delay accepted (one day): a key waiting longer to sign is a misconfiguration, not caution. */
export const MAX_KEY_PUBLISH_DELAY = Duration.days(1);

export interface SigningKeyProps {
  /** The validated policy (compiled into the init function's bundle like every other Gatehouse bundle). */
  readonly policy: LoadedPolicy;
  /** Key the init function's and the provider's log groups are encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * The registry table, for the rotation function's `table:*` capabilities: it records each completed rotation in the
   * table's `SYSTEM#signing-key` audit stream.
   */
  readonly table: dynamodb.ITable;
  /**
   * Customer-managed key the secret is encrypted with.
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The function that seeds the first key.
   * @default SIGNING_KEY_INIT
   */
  readonly initFunction?: FunctionSpec;
  /**
   * The function Secrets Manager runs to rotate the key.
   * @default SIGNING_KEY_ROTATION
   */
  readonly rotationFunction?: FunctionSpec;
  /**
   * How often Secrets Manager rotates the key. It must exceed publishDelay plus the policy's previous-key overlap
   * ({@link previousKeyOverlap}), or every scheduled rotation is refused as too soon.
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;
  /**
   * How long a new key is published in JWKS before it signs, so that resource servers' JWKS caches hold it first
   * (whole seconds, at most MAX_KEY_PUBLISH_DELAY; with the policy's previous-key overlap, shorter than rotationInterval).
   * @default Duration.seconds(900)
   */
  readonly publishDelay?: Duration;
  /**
   * Topic told when a rotation fails and when the alarm clears.
   * @default - none: the alarm shows in CloudWatch only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * How long the init, rotation and provider functions' logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * What happens to the secret (and a key created here) when it leaves the stack. Deleting it would invalidate every
   * access token in flight and the JWKS relying parties cache.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The token-signing key: a Secrets Manager secret under a customer-managed key, created with a random placeholder and
 * seeded with the first ES256 key by a custom resource (SIGNING_KEY_INIT behind a `custom-resources` Provider), which
 * receives the secret in `ResourceProperties.SecretId`. Secrets Manager then rotates it on a schedule with
 * SIGNING_KEY_ROTATION (the 4-step protocol: the pending key is published before it signs; completed rotations are
 * audited in the registry table), and an alarm fires when a rotation step fails.
 */
export class SigningKey extends Construct implements SigningKeyAccess {
  /** The secret holding the signing key set. */
  public readonly secret: secretsmanager.Secret;
  /**
   * The secret holding only the public halves of the key set (written by the seeding and every rotation): what the
   * functions that only verify read, so they hold no grant on {@link secret}.
   */
  public readonly publicSecret: secretsmanager.Secret;
  /** The key the secret is encrypted with. */
  public readonly encryptionKey: kms.IKey;
  /** The function that seeds the first key (the custom resource's onEvent handler). */
  public readonly initFunction: GatehouseFunction;
  /** The custom resource that runs the seeding on stack creation. */
  public readonly initResource: CustomResource;
  /** The function Secrets Manager invokes for each rotation step. */
  public readonly rotationFunction: GatehouseFunction;
  /** The secret's rotation schedule; created after the seeding. */
  public readonly rotationSchedule: secretsmanager.RotationSchedule;
  /** In alarm when the rotation function fails (a rotation step threw: the rotation stalls, AWSCURRENT stays as it was). */
  public readonly rotationAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const rotationInterval = props.rotationInterval ?? Duration.days(30);
    const publishDelay = props.publishDelay ?? Duration.seconds(900);
    const overlap = previousKeyOverlap(props.policy);
    checkRotationTiming(rotationInterval, publishDelay, overlap);
    checkLinkOverlap(rotationInterval, publishDelay, props.policy);

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Gatehouse: encrypts the token-signing key secret',
        enableKeyRotation: true,
        removalPolicy,
      });

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'Gatehouse token-signing key set (ES256, JWK). Seeded by the SigningKeyInit custom resource (the generated value is only a placeholder), then rotated by the SigningKeyRotation function.',
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy,
    });

    // Public data, under the same key: readers' kms:Decrypt is bound to this secret's ARN by encryption context
    // (grantReadPublic), so it opens nothing else the key protects.
    this.publicSecret = new secretsmanager.Secret(this, 'PublicKeys', {
      description:
        'Gatehouse token-signing public keys (JWK, no private members): mirrored from the signing-key secret by the SigningKeyInit custom resource and every rotation; read by the functions that only verify.',
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      // Rebuilt from the signing-key secret by the seeding on the next deployment, so it need not outlive the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const mirrorReason =
      'It holds public keys only, with nothing secret to rotate: the SigningKeyRotation function rewrites it on every rotation of the signing-key secret, which has its own schedule.';
    Validations.of(this.publicSecret).acknowledge(
      { id: 'AwsSolutions-SMG4', reason: mirrorReason },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: mirrorReason },
      { id: 'PCI.DSS.321-SecretsManagerRotationEnabled', reason: mirrorReason },
    );

    this.initFunction = new GatehouseFunction(this, 'InitFunction', {
      spec: props.initFunction ?? SIGNING_KEY_INIT,
      policy: props.policy,
      logEncryptionKey: props.logEncryptionKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      description: 'Gatehouse: seeds the first token-signing key (CloudFormation custom resource)',
    });
    this.grantRead(this.initFunction.function);
    this.grantWrite(this.initFunction.function);

    // The framework function only invokes the init function and writes its own logs, so it gets its own minimal role.
    const providerRole = new ManagedPolicyRole(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Gatehouse: custom-resource framework for the signing-key seed',
    });
    const providerLogs = encryptedLogGroup(this, 'ProviderLogs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    providerLogs.grantWrite(providerRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.initFunction.function,
      frameworkOnEventRole: providerRole,
      logGroup: providerLogs,
    });
    capFrameworkFunction(provider);

    this.initResource = new CustomResource(this, 'Init', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GatehouseSigningKeyInit',
      properties: { SecretId: this.secret.secretArn, PublicSecretId: this.publicSecret.secretArn },
      // Kept when the stack is deleted (no Delete reaches the seeding); a rolled-back create sends it a Delete, a no-op.
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    const rotationSpec = props.rotationFunction ?? SIGNING_KEY_ROTATION;
    const tableAccess = {
      read: rotationSpec.capabilities.includes('table:read'),
      write: rotationSpec.capabilities.includes('table:write'),
      appendSystemAudit: rotationSpec.capabilities.includes('table:append-system-audit'),
    };
    this.rotationFunction = new GatehouseFunction(this, 'RotationFunction', {
      spec: rotationSpec,
      logEncryptionKey: props.logEncryptionKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        [KEY_PUBLISH_DELAY_ENV]: String(publishDelay.toSeconds()),
        [KEY_OVERLAP_ENV]: String(overlap.toSeconds()),
        [METRICS_NAMESPACE_ENV]: stackMetricsNamespace(Stack.of(this).stackName),
        [ENV.publicKeysSecretId]: this.publicSecret.secretArn,
        ...(tableAccess.read || tableAccess.write || tableAccess.appendSystemAudit ? { [ENV.tableName]: props.table.tableName } : {}),
      },
      description: 'Gatehouse: rotates the token-signing key (Secrets Manager rotation function)',
    });
    this.grantRotate(this.rotationFunction.function);
    // Completed rotations are audited in the registry (Query for the stream head, conditional PutItem), and that is all
    // SIGNING_KEY_ROTATION's table:append-system-audit allows: those two calls, on the SYSTEM#signing-key partition only.
    grantTableAccess(this.rotationFunction, props.table, tableAccess);
    // Secrets Manager may invoke it for this secret in this account only (confused-deputy protection).
    const invokeId = 'InvokedBySecretsManager';
    this.rotationFunction.function.addPermission(invokeId, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      sourceArn: this.secret.secretArn,
    });
    const invokePermission = this.rotationFunction.function.node.findChild(invokeId);

    // RotationSchedule gives a function defined in the stack Secrets Manager's template grants (GetRandomPassword on "*",
    // kms:Encrypt/ReEncrypt*/GenerateDataKey* on the key). Handing it a reference to the function instead keeps the role
    // to exactly what the protocol calls (grantRotate above); the invoke permission is ours too.
    const rotationTarget = lambda.Function.fromFunctionAttributes(this, 'RotationTarget', {
      functionArn: this.rotationFunction.function.functionArn,
      sameEnvironment: true,
    });
    this.rotationSchedule = this.secret.addRotationSchedule('Rotation', {
      rotationLambda: rotationTarget,
      automaticallyAfter: rotationInterval,
      // The seeding puts the first key; rotating on creation would replace it at once.
      rotateImmediatelyOnUpdate: false,
    });
    // Secrets Manager tests the rotation function when the schedule is created, so the first key, the invoke permission
    // and the role's grants must all be in place by then.
    this.rotationSchedule.node.addDependency(this.initResource, invokePermission, this.rotationFunction.role);

    this.rotationAlarm = new cloudwatch.Alarm(this, 'RotationFailedAlarm', {
      alarmDescription:
        'Gatehouse: a token-signing key rotation step failed. Secrets Manager retries the step; AWSCURRENT keeps signing until the rotation completes. See the rotation function logs.',
      metric: this.rotationFunction.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.rotationAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      this.rotationAlarm.addOkAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    }

    Validations.of(providerRole).acknowledge({
      id: `AwsSolutions-IAM5[${arnWildcardFinding(this.initFunction.function)}]`,
      reason:
        'The custom-resource framework invokes the init function by its ARN and by `<arn>:*` (its versions and aliases); the wildcard covers versions of that one function only.',
    });
  }

  /** Allows reading the key set: secretsmanager:GetSecretValue/DescribeSecret on this secret, kms:Decrypt via Secrets Manager. */
  public grantRead(grantee: iam.IGrantable): void {
    this.secret.grantRead(grantee);
  }

  /**
   * Allows running the rotation protocol: {@link grantRead}, {@link grantWrite} and secretsmanager:UpdateSecretVersionStage
   * on this secret (moving AWSCURRENT to the pending version).
   */
  public grantRotate(grantee: iam.IGrantable): void {
    this.grantRead(grantee);
    this.grantWrite(grantee);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:UpdateSecretVersionStage'], resources: [this.secret.secretArn] }),
    );
  }

  /**
   * Allows writing a new version of the key set and its public mirror: secretsmanager:PutSecretValue on both secrets,
   * kms:GenerateDataKey via Secrets Manager.
   */
  public grantWrite(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.secret.secretArn, this.publicSecret.secretArn] }),
    );
    this.encryptionKey.grant(
      new kms.ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, grantee.grantPrincipal),
      'kms:GenerateDataKey',
    );
  }

  /**
   * Allows reading the public halves only: secretsmanager:GetSecretValue on the public-key secret and kms:Decrypt via
   * Secrets Manager bound to that secret's ARN (encryption context `SecretARN`), so the grant cannot open the private key
   * secret under the same key.
   */
  public grantReadPublic(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.publicSecret.secretArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:SecretARN': this.publicSecret.secretArn,
          },
        },
      }),
    );
  }
}

/**
 * The provider framework's onEvent function (created by `cr.Provider`, which takes no concurrency setting): CloudFormation
 * sends it this stack's one custom resource, so two reserved executions are plenty, and its invocation needs no
 * dead-letter queue or VPC for the reasons every Gatehouse function has.
 */
function capFrameworkFunction(provider: cr.Provider): void {
  const onEvent = provider.node.findChild('framework-onEvent') as lambda.Function;
  (onEvent.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = 2;
  Validations.of(onEvent).acknowledge(
    { id: 'NIST.800.53.R5-LambdaInsideVPC', reason: OUTSIDE_VPC_REASON },
    { id: 'PCI.DSS.321-LambdaInsideVPC', reason: OUTSIDE_VPC_REASON },
    {
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason:
        'CloudFormation sends the stack event to the custom-resource framework and waits for its response: the framework reports a failure back (FAILED), and a response that never comes times the resource out; either way the deployment fails and rolls back in front of the operator, so no failed event is silently lost and a dead-letter queue would hold nothing anyone acts on.',
    },
  );
}

/**
 * Review links are verified with the previous key for the policy's longest review SLA (linkKeyOverlapMs): a scheduled
 * rotation sooner than that would retire the key that signed links still open.
 */
function checkLinkOverlap(rotationInterval: Duration, publishDelay: Duration, policy: LoadedPolicy): void {
  const linkOverlapSeconds = Math.ceil(linkKeyOverlapMs(policy) / 1000);
  if (publishDelay.toSeconds({ integral: false }) + linkOverlapSeconds >= rotationInterval.toSeconds({ integral: false })) {
    throw new Error(
      `SigningKey: rotationInterval (${rotationInterval.toHumanString()}) must exceed publishDelay plus the policy's longest review SLA + 5 min (${linkOverlapSeconds} s), or a rotation would end review links still open`,
    );
  }
}

/**
 * The publish delay must be whole seconds up to MAX_KEY_PUBLISH_DELAY, and the next rotation must come after the new key
 * has started signing and the previous key's tokens have expired: the rotation function refuses anything sooner.
 */
function checkRotationTiming(rotationInterval: Duration, publishDelay: Duration, overlap: Duration): void {
  const delay = publishDelay.toSeconds({ integral: false });
  if (!Number.isInteger(delay) || delay < 0 || delay > MAX_KEY_PUBLISH_DELAY.toSeconds()) {
    throw new Error(`SigningKey: publishDelay must be a whole number of seconds from 0 to ${MAX_KEY_PUBLISH_DELAY.toSeconds()}, got ${delay}`);
  }
  if (delay + overlap.toSeconds() >= rotationInterval.toSeconds({ integral: false })) {
    throw new Error(
      `SigningKey: rotationInterval (${rotationInterval.toHumanString()}) must exceed publishDelay (${delay} s) plus the policy's previous-key overlap (${overlap.toSeconds()} s), or every scheduled rotation is refused as too soon`,
    );
  }
}
