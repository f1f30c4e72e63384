import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ClientSecretsAccess } from './handler-functions.js';
import { resourceWildcardFinding } from './nag.js';

/** What `client-secrets:create` may do to a client secret: create it (with its `gatehouse:client-id` tag), turn on its rotation, delete it. */
export const CLIENT_SECRET_CREATE_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:TagResource',
  'secretsmanager:RotateSecret',
  'secretsmanager:DeleteSecret',
] as const;

/** What `client-secrets:read` may do: read a version's value (the RFC 7592 read delivers AWSCURRENT). */
export const CLIENT_SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue'] as const;

/**
 * What `client-secrets:manage` may do to an existing client secret: rotate it now (RotateSecret with RotateImmediately and
 * the rotation already configured) and schedule its deletion (DeleteSecret with a recovery window).
 */
export const CLIENT_SECRET_MANAGE_ACTIONS = ['secretsmanager:RotateSecret', 'secretsmanager:DeleteSecret'] as const;

/** What `client-secrets:delete` may do: delete an existing client secret (DeleteSecret, with a recovery window or at once). */
export const CLIENT_SECRET_DELETE_ACTIONS = ['secretsmanager:DeleteSecret'] as const;

/** What `client-secrets:list` may do: list secrets (names, dates, tags; never a value). */
export const CLIENT_SECRET_LIST_ACTIONS = ['secretsmanager:ListSecrets'] as const;

/** What the rotation protocol calls (lambdas/adapters/aws/secrets-staged-secret.ts). */
export const CLIENT_SECRET_ROTATE_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

/** The tag CreateSecret puts on every client secret (lambdas/adapters/aws/secrets-client-secrets.ts). */
export const CLIENT_ID_TAG = 'gatehouse:client-id';

/** The rotation function a secret already has; absent on a secret being issued, before its rotation is configured. */
const ROTATION_FUNCTION_OF_SECRET = 'secretsmanager:resource/AllowRotationLambdaArn';

/** Characters Secrets Manager allows in a secret name. */
const SECRET_NAME_CHARACTERS = /^[A-Za-z0-9/_+=.@-]+$/;

export interface ClientSecretsProps {
  /**
   * Client secrets are named `<prefix><client_id>`, and every grant is confined to `<prefix>*`. It must end with `/` (so
   * that no other prefix of the same form falls under its wildcard) and use only characters Secrets Manager allows in
   * names. The default includes the stack name, so two Gatehouse stacks in one account cannot reach each other's secrets.
   * @default `gatehouse/<stack name>/clients/`
   */
  readonly prefix?: string;
  /**
   * Customer-managed key the secrets are created under.
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Topic told when a client-secret rotation fails and when the alarm clears.
   * @default - none: the alarm shows in CloudWatch only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * What happens to a key created here when it leaves the stack. Client secrets are created at run time, outlive the
   * stack and stay readable only while their key exists.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Consumers' client secrets: one Secrets Manager secret per consumer, created at run time by the register function
 * (never in the template), named `<prefix><client_id>` and encrypted with a customer-managed key. This construct owns
 * the key and the name prefix, grants each capability on `<prefix>*` only, lets Secrets Manager invoke the rotation
 * function for those secrets only, and raises an alarm when a rotation step fails.
 */
export class ClientSecrets extends Construct implements ClientSecretsAccess {
  /** Name prefix of every client secret (`GATEHOUSE_CLIENT_SECRET_PREFIX`). */
  public readonly prefix: string;
  /** `arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>*`: every client secret, and nothing else. */
  public readonly secretArnPattern: string;
  /** The key the secrets are created under (`GATEHOUSE_CLIENT_SECRET_KEY_ID` is its ARN). */
  public readonly encryptionKey: kms.IKey;

  private readonly alarmTopic?: sns.ITopic;
  private rotation?: { readonly fn: lambda.IFunction; readonly permission: lambda.CfnPermission; readonly alarm: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ClientSecretsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.prefix = props.prefix ?? `gatehouse/${stack.stackName}/clients/`;
    checkPrefix(this.prefix);
    this.secretArnPattern = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: "Gatehouse: encrypts consumers' client secrets (Secrets Manager secrets created at registration)",
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
      });
    this.alarmTopic = props.alarmTopic;

    this.node.addValidation({
      validate: () => (this.rotation ? [] : ['ClientSecrets: useRotationFunction() was never called; client secrets would have no rotation function']),
    });
  }

  /** The function Secrets Manager rotates client secrets with (set by {@link useRotationFunction}). */
  public get rotationFunction(): lambda.IFunction {
    return this.boundRotation().fn;
  }

  /** Secrets Manager's permission to invoke the rotation function, for client secrets in this account only. */
  public get invokePermission(): lambda.CfnPermission {
    return this.boundRotation().permission;
  }

  /** In alarm when the rotation function fails (a step threw: that secret's rotation stalls, AWSCURRENT stays as it was). */
  public get rotationAlarm(): cloudwatch.Alarm {
    return this.boundRotation().alarm;
  }

  /**
   * Makes `fn` the client-secret rotation function: Secrets Manager may invoke it for `<prefix>*` secrets of this account
   * only (confused-deputy protection), and one failed invocation in 5 minutes raises {@link rotationAlarm}.
   */
  public useRotationFunction(fn: lambda.IFunction): void {
    if (this.rotation) throw new Error(`ClientSecrets: the rotation function is already ${this.rotation.fn.node.path}`);
    const permissionId = 'InvokedBySecretsManagerForClientSecrets';
    fn.addPermission(permissionId, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      sourceAccount: Stack.of(this).account,
      sourceArn: this.secretArnPattern,
    });
    const permission = fn.node.tryFindChild(permissionId) as lambda.CfnPermission | undefined;
    if (!permission) throw new Error(`ClientSecrets: cannot add an invoke permission to ${fn.node.path} (a function defined outside this app?)`);

    const alarm = new cloudwatch.Alarm(this, 'RotationFailedAlarm', {
      alarmDescription:
        "Gatehouse: a client-secret rotation step failed. Secrets Manager retries the step; the consumer's current secret keeps working until the rotation completes. See the rotation function logs (the failed step and client id are logged).",
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new cloudwatchActions.SnsAction(this.alarmTopic));
    }
    this.rotation = { fn, permission, alarm };
  }

  /**
   * Allows issuing client secrets, and nothing on a secret already issued: CreateSecret on `<prefix>*` with the
   * `gatehouse:client-id` tag only; TagResource with that tag key, RotateSecret (with `rotationFunction`, not immediately)
   * and DeleteSecret (forced, the roll-back of a failed issue) only on a secret that has no rotation function yet
   * (`secretsmanager:resource/AllowRotationLambdaArn` absent). Every issued secret has one, so the public register
   * function cannot rotate, re-configure, retag or delete a consumer's secret. Also lambda:InvokeFunction on exactly
   * `rotationFunction` (RotateSecret requires it of the caller), and kms:GenerateDataKey/kms:Decrypt on the key via
   * Secrets Manager (what CreateSecret needs of a caller using a customer-managed key).
   */
  public grantCreate(grantee: iam.IGrantable, rotationFunction: lambda.IFunction): void {
    const onlyTheClientIdTag = { 'ForAllValues:StringEquals': { 'aws:TagKeys': [CLIENT_ID_TAG] } };
    const notYetIssued = { Null: { [ROTATION_FUNCTION_OF_SECRET]: 'true' } };
    const add = (actions: string[], conditions: Record<string, Record<string, unknown>>) =>
      grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [this.secretArnPattern], conditions }));
    add(['secretsmanager:CreateSecret'], onlyTheClientIdTag);
    add(['secretsmanager:TagResource'], { ...onlyTheClientIdTag, ...notYetIssued });
    add(['secretsmanager:RotateSecret'], {
      ...notYetIssued,
      Bool: { 'secretsmanager:RotateImmediately': 'false' },
      StringEquals: { 'secretsmanager:RotationLambdaARN': rotationFunction.functionArn },
    });
    add(['secretsmanager:DeleteSecret'], { ...notYetIssued, Bool: { 'secretsmanager:ForceDeleteWithoutRecovery': 'true' } });
    iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [rotationFunction.functionArn] });
    this.grantKeyViaSecretsManager(grantee, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.acknowledgePrefix(grantee, 'client-secrets:create (CreateSecret with its tag; TagResource, RotateSecret and DeleteSecret only before issue)');
  }

  /**
   * Allows reading client secrets' current values: secretsmanager:GetSecretValue on `<prefix>*` for the AWSCURRENT stage
   * only, kms:Decrypt via Secrets Manager. IAM cannot tell which consumer is calling: the handler reads only the secret of
   * the client whose registration access token it verified (residual risk in the README's security section).
   */
  public grantRead(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...CLIENT_SECRET_READ_ACTIONS],
        resources: [this.secretArnPattern],
        conditions: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      }),
    );
    this.grantKeyViaSecretsManager(grantee, 'kms:Decrypt');
    this.acknowledgePrefix(grantee, 'client-secrets:read (GetSecretValue)');
  }

  /**
   * Allows acting on existing client secrets: {@link CLIENT_SECRET_MANAGE_ACTIONS} on `<prefix>*` and lambda:InvokeFunction
   * on exactly `rotationFunction` (RotateSecret requires it of the caller). Neither call reads or writes a secret value, so
   * the grantee gets no use of the key.
   */
  public grantManage(grantee: iam.IGrantable, rotationFunction: lambda.IFunction): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...CLIENT_SECRET_MANAGE_ACTIONS], resourceArns: [this.secretArnPattern] });
    iam.Grant.addToPrincipal({ grantee, actions: ['lambda:InvokeFunction'], resourceArns: [rotationFunction.functionArn] });
    this.acknowledgePrefix(grantee, 'client-secrets:manage (RotateSecret to rotate now, DeleteSecret with a recovery window)');
  }

  /**
   * Allows deleting client secrets: {@link CLIENT_SECRET_DELETE_ACTIONS} on `<prefix>*` only. DeleteSecret
   * neither reads nor writes a value and invokes nothing, so the grantee gets no key and no lambda:InvokeFunction.
   */
  public grantDelete(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...CLIENT_SECRET_DELETE_ACTIONS], resourceArns: [this.secretArnPattern] });
    this.acknowledgePrefix(grantee, 'client-secrets:delete (DeleteSecret, with a recovery window or at once)');
  }

  /**
   * Allows running the rotation protocol: {@link CLIENT_SECRET_ROTATE_ACTIONS} on `<prefix>*`, kms:Decrypt and
   * kms:GenerateDataKey via Secrets Manager (reading versions, putting the pending one).
   */
  public grantRotate(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...CLIENT_SECRET_ROTATE_ACTIONS], resourceArns: [this.secretArnPattern] });
    this.grantKeyViaSecretsManager(grantee, 'kms:Decrypt', 'kms:GenerateDataKey');
    this.acknowledgePrefix(grantee, 'client-secrets:rotate (DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage)');
  }

  /**
   * Allows listing secrets: {@link CLIENT_SECRET_LIST_ACTIONS} on `*`, the only resource ListSecrets accepts. The listing
   * returns metadata only, so no key grant; what the grantee may then do to a secret stays confined to `<prefix>*`.
   */
  public grantList(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...CLIENT_SECRET_LIST_ACTIONS], resourceArns: ['*'] });
    const principal = grantee.grantPrincipal;
    if (!Construct.isConstruct(principal)) return;
    Validations.of(principal).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'client-secrets:list: secretsmanager:ListSecrets supports no resource-level permission (Service Authorization Reference: no resource type, so "*"). It returns names, dates and tags, never a secret value; the sweep filters the listing by this deployment\'s client-secret prefix and tag, and may only delete secrets under that prefix.',
    });
  }

  private boundRotation(): NonNullable<ClientSecrets['rotation']> {
    if (!this.rotation) throw new Error('ClientSecrets: no rotation function yet; call useRotationFunction() first');
    return this.rotation;
  }

  /** Key grants hold only when Secrets Manager in this region makes the call (the key policy names the grantee). */
  private grantKeyViaSecretsManager(grantee: iam.IGrantable, ...actions: string[]): void {
    this.encryptionKey.grant(new kms.ViaServicePrincipal(`secretsmanager.${Stack.of(this).region}.amazonaws.com`, grantee.grantPrincipal), ...actions);
  }

  private acknowledgePrefix(grantee: iam.IGrantable, capability: string): void {
    const principal = grantee.grantPrincipal;
    if (!Construct.isConstruct(principal)) return;
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[${resourceWildcardFinding(this, this.secretArnPattern)}]`,
      reason: `${capability}: client secrets are created at run time, one per consumer, named ${this.prefix}<client_id> (Secrets Manager appends a random suffix to the ARN), so no ARN is known at synth time; the wildcard is confined to that prefix, which holds Gatehouse client secrets only, in this account and region.`,
    });
  }
}

/** A prefix must be a secret-name fragment ending with `/`; anything else would widen or break `<prefix>*`. */
function checkPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) throw new Error('ClientSecrets: the prefix must be known at synth time (it scopes every grant)');
  if (!SECRET_NAME_CHARACTERS.test(prefix) || !prefix.endsWith('/') || prefix.startsWith('/')) {
    throw new Error(`ClientSecrets: prefix ${JSON.stringify(prefix)} must use only A-Z a-z 0-9 / _ + = . @ -, must not start with / and must end with /`);
  }
}
