import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SCHEMA } from '../../lambdas/adapters/aws/table-schema.js';
import { RegistryTable } from '../../lib/registry-table.js';
import { arnOf, testApp } from './stack-fixture.js';

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
      Projection: { ProjectionType: index.projection },
    }));
    template.hasResourceProperties('AWS::DynamoDB::Table', { GlobalSecondaryIndexes: indexes });
    const attributes = TABLE_SCHEMA.indexes.flatMap((i) => [i.partitionKey, i.sortKey]).map((name) => ({ AttributeName: name, AttributeType: 'S' }));
    template.hasResourceProperties('AWS::DynamoDB::Table', { AttributeDefinitions: Match.arrayWith(attributes) });
    expect(TABLE_SCHEMA.indexes.map((i) => i.name)).toContain('attention');
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
});
