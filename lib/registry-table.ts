import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { TABLE_SCHEMA, type TableSchema } from '../lambdas/adapters/aws/table-schema.js';
import { arnWildcardFinding } from './nag.js';

/** Schema projection names to CDK projection types. */
const PROJECTIONS: Readonly<Record<'ALL' | 'KEYS_ONLY', dynamodb.ProjectionType>> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
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
   * allowed what, so it outlives the stack by default.
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
      });
    }
  }
}

/**
 * `table:read` → Table.grantReadData, `table:write` → Table.grantWriteData, and on the function's role the acknowledgments
 * of the wildcards those grants carry, each confined to the registry table, its indexes or its key.
 */
export function grantTableAccess(
  fn: { readonly function: lambda.IFunction; readonly role: iam.IRole },
  table: dynamodb.ITable,
  access: { readonly read: boolean; readonly write: boolean },
): void {
  if (access.read) table.grantReadData(fn.function);
  if (access.write) table.grantWriteData(fn.function);
  if (access.read || access.write) acknowledgeTableGrants(fn.role, table, access.write);
}

/** The wildcards CDK's table grants carry, each confined to the registry table or its key. */
function acknowledgeTableGrants(role: iam.IRole, table: dynamodb.ITable, write: boolean): void {
  const acknowledgments = Validations.of(role);
  acknowledgments.acknowledge({
    id: `AwsSolutions-IAM5[${arnWildcardFinding(table, '/index/*')}]`,
    reason:
      'Table.grantReadData/grantWriteData cover the registry table and its own global secondary indexes (`<table ARN>/index/*`, today only `attention`); no other table is reachable.',
  });
  if (write) {
    acknowledgments.acknowledge(
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Table.grantWriteData lets DynamoDB encrypt with the table key; the statement\'s only resource is the registry table\'s customer-managed key.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
        reason: 'Table.grantWriteData lets DynamoDB re-encrypt with the table key; the statement\'s only resource is the registry table\'s customer-managed key.',
      },
    );
  }
}
