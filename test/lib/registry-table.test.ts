import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '../../lambdas/adapters/aws/table-schema.js';
import { ManagedPolicyRole } from '../../lib/managed-policy-role.js';
import { grantTableAccess, RegistryTable, SIGNING_KEY_AUDIT_PARTITION, SYSTEM_AUDIT_ACTIONS } from '../../lib/registry-table.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';
import { arnOf, logicalId, statementsOfRole, testApp } from './stack-fixture.js';

describe('RegistryTable', () => {
  let registry: RegistryTable;
  let template: Template;

  beforeAll(() => {
    const stack = new Stack(testApp(), 'Test');
    registry = new RegistryTable(stack, 'Registry');
    template = Template.fromStack(stack);
  });

  it('creates one table keyed by the schema partition and sort keys, both strings', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: 'S' },
        { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: 'S' },
      ]),
    });
  });

  it('creates every index of the schema with string keys and the schema projection', () => {
    const indexes = TABLE_SCHEMA.indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection, ...('nonKeyAttributes' in index ? { NonKeyAttributes: [...index.nonKeyAttributes] } : {}) },
    }));
    template.hasResourceProperties('AWS::DynamoDB::Table', { GlobalSecondaryIndexes: indexes });
    const attributes = TABLE_SCHEMA.indexes.flatMap((i) => [i.partitionKey, i.sortKey]).map((name) => ({ AttributeName: name, AttributeType: 'S' }));
    template.hasResourceProperties('AWS::DynamoDB::Table', { AttributeDefinitions: Match.arrayWith(attributes) });
    expect(TABLE_SCHEMA.indexes.map((i) => i.name)).toEqual(['attention', 'software']);
  });

  it('expires items on the schema TTL attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TABLE_SCHEMA.timeToLiveAttribute, Enabled: true },
    });
  });

  it('bills on demand and keeps 35 days of point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 35 },
    });
  });

  it('encrypts with its own customer-managed key that rotates', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(registry.encryptionKey) },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('is retained and deletion-protected, and so is its key', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });

  it('is selected by an AWS Backup plan writing to a retained vault under its own rotating key, named per deployment', () => {
    template.hasResourceProperties('AWS::Backup::BackupSelection', { BackupSelection: Match.objectLike({ Resources: [arnOf(registry.table)] }) });
    template.hasResource('AWS::Backup::BackupVault', {
      Properties: Match.objectLike({ EncryptionKeyArn: arnOf(registry.backupKey!) }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ Description: Match.stringLikeRegexp('backup vault') }),
      DeletionPolicy: 'RetainExceptOnCreate',
    });
    const vault = Object.values(template.findResources('AWS::Backup::BackupVault'))[0]!;
    expect(vault.Properties.BackupVaultName).toEqual({ 'Fn::Join': ['', [expect.stringMatching(/-registry-$/), DEPLOYMENT_SUFFIX]] });
    expect(registry.backupKey).not.toBe(registry.encryptionKey);
    template.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanRule: [
          Match.objectLike({ RuleName: 'Daily', Lifecycle: { DeleteAfterDays: 35 } }),
          Match.objectLike({ RuleName: 'Monthly', Lifecycle: { DeleteAfterDays: 365 } }),
        ],
      },
    });
    expect(new NIST80053R5Checks(registry).validateScope(registry).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('leaves backups to the organisation when asked, acknowledging the NIST rule with that reason', () => {
    const stack = new Stack(testApp(), 'NoBackup');
    const unplanned = new RegistryTable(stack, 'Registry', { backup: false });
    const other = Template.fromStack(stack);
    other.resourceCountIs('AWS::Backup::BackupPlan', 0);
    expect(unplanned.backupPlan).toBeUndefined();
    expect(new NIST80053R5Checks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
    const reasons = unplanned.table.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => JSON.stringify(m.data));
    expect(reasons.join()).toMatch(/DynamoDBInBackupPlan.*organisation-wide AWS Backup policy.*point-in-time recovery/);
  });
});

describe('grantTableAccess', () => {
  it('gives table:append-system-audit Query and PutItem on the SYSTEM#signing-key partition of the table only, and the table key', () => {
    const stack = new Stack(testApp(), 'Audit');
    const registry = new RegistryTable(stack, 'Registry', { backup: false });
    const role = new ManagedPolicyRole(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x'), role });
    grantTableAccess({ function: fn, role }, registry.table, { read: false, write: false, appendSystemAudit: true });
    const statements = statementsOfRole(Template.fromStack(stack), logicalId(role)).filter((s) => !JSON.stringify(s.Action).includes('logs:'));
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: [...SYSTEM_AUDIT_ACTIONS].sort(),
        Resource: arnOf(registry.table),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SIGNING_KEY_AUDIT_PARTITION] } },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: arnOf(registry.encryptionKey),
      },
    ]);
    expect(new AwsSolutionsChecks(stack).validateScope(role).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
