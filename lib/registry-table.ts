import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { accessOf, READ_ACTIONS, type RegistryOperationName } from '../lambdas/adapters/aws/registry-access.js';
import { keys, TABLE_SCHEMA, type TableSchema } from '../lambdas/adapters/aws/table-schema.js';
import { SIGNING_KEY_AUDIT_STREAM } from '../lambdas/core/rotation/signing-key-rotation.js';
import { deploymentName } from './deployment-names.js';
import { arnWildcardFinding } from './nag.js';

/** How long AWS Backup keeps the registry's daily and monthly recovery points. */
export const REGISTRY_BACKUP_RETENTION = { daily: Duration.days(35), monthly: Duration.days(365) } as const;

/** The partition `table:append-system-audit` may touch: the signing-key rotation audit stream. */
export const SIGNING_KEY_AUDIT_PARTITION = keys.systemAudit(SIGNING_KEY_AUDIT_STREAM, 0).pk;

/**
 * What `table:append-system-audit` may call: the actions of the system audit stream's operations, Query (the stream's
 * head) and PutItem (the next event, conditional).
 */
export const SYSTEM_AUDIT_ACTIONS: readonly string[] = accessOf(['appendSystemAudit', 'listSystemAudit']).table.map((action) => `dynamodb:${action}`);

/** The table-key actions CDK's table grants give readers and writers (Table.grantReadData + grantWriteData). */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] as const;

/** Schema projection names to CDK projection types. */
const PROJECTIONS: Readonly<Record<'ALL' | 'KEYS_ONLY' | 'INCLUDE', dynamodb.ProjectionType>> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
};

export interface RegistryTableProps {
  /**
   * The single-table schema the table is built from; local mode creates its dynalite table from the same object.
   * @default TABLE_SCHEMA
   */
  readonly schema?: TableSchema;
  /**
   * Customer-managed key for server-side encryption.
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the table (and a key created here) when it leaves the stack. The registry is the evidence of who was
   * allowed what, so it outlives the stack by default. RETAIN rather than RETAIN_ON_UPDATE_OR_DELETE: the table has deletion
   * protection, so a rolled-back create could not delete it and the stack would end in ROLLBACK_FAILED; the table has no
   * fixed name, so the empty table such a rollback leaves does not block the next create. The backup vault and its key are
   * kept only after a successful create (RETAIN_ON_UPDATE_OR_DELETE).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Whether CloudFormation (or anyone) may delete the table.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Days of point-in-time recovery (1-35).
   * @default 35
   */
  readonly pointInTimeRecoveryPeriodInDays?: number;
  /**
   * Whether this stack backs the table up with AWS Backup (daily recovery points kept 35 days, monthly ones kept a
   * year, in a vault under its own customer-managed key). Set it to false only where an organisation-wide AWS Backup
   * policy already selects the table; point-in-time recovery stays on either way.
   * @default true
   */
  readonly backup?: boolean;
}

/**
 * The registry: consumers, requests, audit events and replay caches in one DynamoDB table, built from TABLE_SCHEMA.
 *
 * Index projections come from the schema. `attention` projects ALL attributes: it is sparse (only consumers that need a future look carry its keys) and
 * consumer items are small, so the extra storage is negligible, and a sweep can decide what to do from the query alone
 * instead of one GetItem per due consumer (its conditional TransactWrite still guards against stale reads).
 */
export class RegistryTable extends Construct {
  /** The table. */
  public readonly table: dynamodb.Table;
  /** The key the table is encrypted with. */
  public readonly encryptionKey: kms.IKey;
  /** The AWS Backup plan that selects the table, unless `backup` is false. */
  public readonly backupPlan?: backup.BackupPlan;
  /** The vault the plan's recovery points go to, unless `backup` is false. */
  public readonly backupVault?: backup.BackupVault;
  /** The key the vault is encrypted with, unless `backup` is false. */
  public readonly backupKey?: kms.Key;

  constructor(scope: Construct, id: string, props: RegistryTableProps = {}) {
    super(scope, id);
    const schema = props.schema ?? TABLE_SCHEMA;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey =
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: 'Gatehouse: encrypts the registry table',
        enableKeyRotation: true,
        removalPolicy,
      });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: schema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: schema.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: schema.timeToLiveAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: props.pointInTimeRecoveryPeriodInDays ?? 35,
      },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy,
    });

    for (const index of schema.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: PROJECTIONS[index.projection],
        ...('nonKeyAttributes' in index ? { nonKeyAttributes: [...index.nonKeyAttributes] } : {}),
      });
    }

    if (props.backup ?? true) {
      const backupRemovalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
      ({ plan: this.backupPlan, vault: this.backupVault, key: this.backupKey } = backUp(this, this.table, backupRemovalPolicy));
    } else {
      Validations.of(this.table).acknowledge({
        id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
        reason:
          'backup is off for this deployment because an organisation-wide AWS Backup policy selects the table outside this stack; the table keeps 35 days of point-in-time recovery and deletion protection regardless.',
      });
    }
  }
}

/**
 * An AWS Backup plan for the registry: daily recovery points (03:00 UTC) kept 35 days and monthly ones kept a year,
 * beyond what point-in-time recovery covers, in a vault encrypted with its own key and retained with the table.
 */
function backUp(scope: Construct, table: dynamodb.Table, removalPolicy: RemovalPolicy): { plan: backup.BackupPlan; vault: backup.BackupVault; key: kms.Key } {
  const key = new kms.Key(scope, 'BackupKey', { description: "Gatehouse: encrypts the registry table's backup vault", enableKeyRotation: true, removalPolicy });
  // A vault needs a name, and it outlives the stack: the deployment's suffix keeps the next deployment from colliding with it.
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    backupVaultName: deploymentName(scope, 'registry', { maxLength: 50 }),
    encryptionKey: key,
    removalPolicy,
  });
  const plan = new backup.BackupPlan(scope, 'BackupPlan', {
    backupVault: vault,
    backupPlanRules: [
      new backup.BackupPlanRule({
        ruleName: 'Daily',
        scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
        deleteAfter: REGISTRY_BACKUP_RETENTION.daily,
      }),
      new backup.BackupPlanRule({
        ruleName: 'Monthly',
        scheduleExpression: events.Schedule.cron({ day: '1', hour: '4', minute: '0' }),
        deleteAfter: REGISTRY_BACKUP_RETENTION.monthly,
      }),
    ],
  });
  const selection = plan.addSelection('Registry', { resources: [backup.BackupResource.fromDynamoDbTable(table)] });
  Validations.of(selection).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    reason:
      "The backup selection role uses AWSBackupServiceRolePolicyForBackup, the AWS-managed policy AWS Backup documents for its service role; AWS keeps it current with the calls Backup makes, and the role can only be assumed by backup.amazonaws.com and is used only by this plan's selection (the registry table).",
  });
  return { plan, vault, key };
}

/** What the table's key lets a reader and (with these) a writer do, as CDK's table grants give them. */
const TABLE_KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;
const TABLE_KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] as const;

/**
 * A function's access to the registry table. With `operations` (the registry operations its handler calls), exactly the
 * DynamoDB actions of those operations on the table, and on the `attention` index only where an operation queries it,
 * with the table key as CDK's grants give it (reads: Decrypt, DescribeKey; writes also Encrypt, ReEncrypt*,
 * GenerateDataKey*); an operation that reads needs `table:read`, one that writes `table:write`. Without them,
 * `table:read` → Table.grantReadData and `table:write` → Table.grantWriteData. Either way, on the function's role, the
 * acknowledgments of the wildcards those grants carry, each confined to the registry table, its indexes or its key.
 */
export function grantTableAccess(
  fn: { readonly function: lambda.IFunction; readonly role: iam.IRole },
  table: dynamodb.ITable,
  access: {
    readonly read: boolean;
    readonly write: boolean;
    readonly appendSystemAudit?: boolean;
    readonly countSoftwareConsumers?: boolean;
    readonly operations?: readonly RegistryOperationName[] | undefined;
  },
): void {
  if (access.operations) grantOperations(fn, table, access.operations, access);
  else {
    if (access.read) table.grantReadData(fn.function);
    if (access.write) table.grantWriteData(fn.function);
    if (access.read || access.write) acknowledgeTableGrants(fn.role, table, access.write);
  }
  // CDK's full read and write grants already cover the audit stream; a list of operations need not.
  if (access.appendSystemAudit && (access.operations !== undefined || !(access.read && access.write))) grantSystemAuditAppend(fn, table);
  if (access.countSoftwareConsumers) {
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${TABLE_SCHEMA.indexes[1].name}`] }),
    );
    table.encryptionKey?.grant(fn.function, ...TABLE_KEY_READ_ACTIONS);
  }
}

/** The actions of `operations`, refused where the function's table capabilities do not cover them. */
function grantOperations(
  fn: { readonly function: lambda.IFunction; readonly role: iam.IRole },
  table: dynamodb.ITable,
  operations: readonly RegistryOperationName[],
  allowed: { readonly read: boolean; readonly write: boolean },
): void {
  const { table: onTable, attentionIndex } = accessOf(operations);
  const all = [...onTable, ...attentionIndex];
  const writes = all.some((action) => !READ_ACTIONS.includes(action));
  const reads = all.some((action) => READ_ACTIONS.includes(action));
  if ((reads && !allowed.read) || (writes && !allowed.write)) {
    throw new Error(
      `grantTableAccess: the registry operations ${operations.join(', ')} need ${[reads && !allowed.read ? 'table:read' : '', writes && !allowed.write ? 'table:write' : ''].filter(Boolean).join(' and ')}`,
    );
  }
  if (onTable.length > 0) fn.function.addToRolePolicy(new iam.PolicyStatement({ actions: onTable.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
  if (attentionIndex.length > 0) {
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: attentionIndex.map((a) => `dynamodb:${a}`), resources: [`${table.tableArn}/index/${TABLE_SCHEMA.indexes[0].name}`] }),
    );
  }
  if (all.length === 0) return;
  table.encryptionKey?.grant(fn.function, ...TABLE_KEY_READ_ACTIONS, ...(writes ? TABLE_KEY_WRITE_ACTIONS : []));
  if (writes) acknowledgeTableKeyWrites(fn.role, 'Writes by the registry operations the function calls let DynamoDB');
}

/**
 * `table:append-system-audit`: Query and PutItem on the table itself (not its indexes), only for items in the
 * signing-key audit stream's partition (`dynamodb:LeadingKeys`), and the table key as a table writer uses it.
 */
function grantSystemAuditAppend(fn: { readonly function: lambda.IFunction; readonly role: iam.IRole }, table: dynamodb.ITable): void {
  fn.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [...SYSTEM_AUDIT_ACTIONS],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SIGNING_KEY_AUDIT_PARTITION] } },
    }),
  );
  table.encryptionKey?.grant(fn.function, ...TABLE_KEY_ACTIONS);
  const reason = (action: string) =>
    `table:append-system-audit lets DynamoDB use the table key for the signing-key audit stream's Query and PutItem (${action} as Table.grantWriteData gives a writer); the statement's only resource is the registry table's customer-managed key.`;
  Validations.of(fn.role).acknowledge(
    { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', reason: reason('kms:GenerateDataKey*') },
    { id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', reason: reason('kms:ReEncrypt*') },
  );
}

/** The wildcards CDK's table grants carry, each confined to the registry table or its key. */
function acknowledgeTableGrants(role: iam.IRole, table: dynamodb.ITable, write: boolean): void {
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[${arnWildcardFinding(table, '/index/*')}]`,
    reason:
      'Table.grantReadData/grantWriteData cover the registry table and its own global secondary indexes (`<table ARN>/index/*`, today only `attention`); no other table is reachable.',
  });
  if (write) acknowledgeTableKeyWrites(role, 'Table.grantWriteData lets DynamoDB');
}

/** The key wildcards a table writer's grant carries (`who` says whose writes), confined to the registry table's key. */
function acknowledgeTableKeyWrites(role: iam.IRole, who: string): void {
  Validations.of(role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: `${who} encrypt with the table key; the statement's only resource is the registry table's customer-managed key.`,
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: `${who} re-encrypt with the table key; the statement's only resource is the registry table's customer-managed key.`,
    },
  );
}
