import { CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { SIGNING_KEY_INIT, type FunctionSpec } from './functions.js';
import { GatehouseFunction } from './gatehouse-function.js';
import type { SigningKeyAccess } from './handler-functions.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { arnWildcardFinding } from './nag.js';

export interface SigningKeyProps {
  /** The validated policy (compiled into the init function's bundle like every other Gatehouse bundle). */
  readonly policy: LoadedPolicy;
  /** Key the init function's and the provider's log groups are encrypted with. */
  readonly logEncryptionKey: kms.IKey;
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
   * How long the init function's and the provider's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * What happens to the secret (and a key created here) when it leaves the stack. Deleting it would invalidate every
   * access token in flight and the JWKS relying parties cache.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The token-signing key: a Secrets Manager secret under a customer-managed key, created with a random placeholder and
 * seeded with the first ES256 key by a custom resource (SIGNING_KEY_INIT behind a `custom-resources` Provider), which
 * receives the secret in `ResourceProperties.SecretId`.
 */
export class SigningKey extends Construct implements SigningKeyAccess {
  /** The secret holding the signing key set. */
  public readonly secret: secretsmanager.Secret;
  /** The key the secret is encrypted with. */
  public readonly encryptionKey: kms.IKey;
  /** The function that seeds the first key (the custom resource's onEvent handler). */
  public readonly initFunction: GatehouseFunction;
  /** The custom resource that runs the seeding on stack creation. */
  public readonly initResource: CustomResource;

  constructor(scope: Construct, id: string, props: SigningKeyProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Gatehouse: encrypts the token-signing key secret',
        enableKeyRotation: true,
        removalPolicy,
      });

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Gatehouse token-signing key set (ES256, JWK). Seeded by the SigningKeyInit custom resource; the generated value is only a placeholder.',
      encryptionKey: this.encryptionKey,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy,
    });

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
    const providerRole = new iam.Role(this, 'ProviderRole', {
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

    this.initResource = new CustomResource(this, 'Init', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::GatehouseSigningKeyInit',
      properties: { SecretId: this.secret.secretArn },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation of the signing key (RotationSchedule with the 4-step createSecret/setSecret/testSecret/finishSecret Lambda that publishes the pending key in JWKS before it signs) is the follow-up issue "signing-key rotation"; until then the key is seeded once by the SigningKeyInit custom resource.',
    });
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

  /** Allows writing a new version of the key set: secretsmanager:PutSecretValue on this secret, kms:GenerateDataKey via Secrets Manager. */
  public grantWrite(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:PutSecretValue'], resources: [this.secret.secretArn] }),
    );
    this.encryptionKey.grant(
      new kms.ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, grantee.grantPrincipal),
      'kms:GenerateDataKey',
    );
  }
}
