import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface LogEncryptionKeyProps {
  /**
   * What happens to the key when the stack is deleted. Log groups kept after deletion stay readable only while the key
   * exists; a create that fails and rolls back deletes it (no log worth keeping was written yet).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The customer-managed key every Gatehouse log group is encrypted with.
 *
 * Function, workflow and access logs carry client ids, request metadata and error details about partners' onboarding;
 * a bank keeps those under a key it controls and can revoke. One key for all log groups keeps the cost at one key.
 */
export class LogEncryptionKey extends Construct {
  /** The KMS key (rotation on); CloudWatch Logs in this account and region may use it for this account's log groups only. */
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps = {}) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'Gatehouse: encrypts CloudWatch log groups (functions, workflow, API access logs)',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    // CloudWatch Logs encrypts with the key as the logs service principal; the encryption context binds it to this account's log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
        },
      }),
    );
  }
}

export interface EncryptedLogGroupProps {
  /** Key the log group is encrypted with. */
  readonly encryptionKey: kms.IKey;
  /**
   * How long log events are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted (kept), or when the create that made it rolls back (deleted).
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The log group's name, where a service requires one (WAF delivers only to `aws-waf-logs-*`). A retained group's name must
   * differ per deployment (deploymentName), or the next deployment collides with it.
   * @default - a name CloudFormation generates
   */
  readonly logGroupName?: string;
}

/** A log group with retention, encrypted with the logs key; every Gatehouse log group is one of these. */
export function encryptedLogGroup(scope: Construct, id: string, props: EncryptedLogGroupProps): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    logGroupName: props.logGroupName,
    encryptionKey: props.encryptionKey,
    retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
}

/** Retention in days accepted by CloudWatch Logs, for validating configuration. */
export const LOG_RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

/** Converts a number of days to a CloudWatch retention, or throws when CloudWatch does not offer it. */
export function retentionFromDays(days: number): logs.RetentionDays {
  if (!LOG_RETENTION_DAYS.includes(days)) {
    throw new Error(`log retention of ${days} days is not offered by CloudWatch Logs; use one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  return days as logs.RetentionDays;
}
