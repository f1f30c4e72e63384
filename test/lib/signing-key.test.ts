import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { SIGNING_KEY_INIT } from '../../lib/functions.js';
import { actionsOfRole, arnOf, logicalId, sortedActions, statementsOfRole, synthGatehouse } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;

describe('SigningKey', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
  });

  it('stores the key set in one secret, encrypted with its own rotating customer-managed key and retained', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const secret = resources[logicalId(stack.signingKey.secret)]!;
    expect(secret.Properties).toMatchObject({ KmsKeyId: arnOf(stack.signingKey.encryptionKey), GenerateSecretString: expect.any(Object) });
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(resources[logicalId(stack.signingKey.encryptionKey)]!.Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it('seeds the first key with a custom resource that receives the secret id', () => {
    template.resourceCountIs('Custom::GatehouseSigningKeyInit', 1);
    template.hasResourceProperties('Custom::GatehouseSigningKeyInit', {
      SecretId: { Ref: logicalId(stack.signingKey.secret) },
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SigningKeyProviderframeworkonEvent'), 'Arn'] },
    });
  });

  it('runs the seeding in the SIGNING_KEY_INIT function behind the custom-resource provider', () => {
    expect(resources[logicalId(stack.signingKey.initFunction.function)]!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: SIGNING_KEY_INIT.memorySize,
      Timeout: SIGNING_KEY_INIT.timeoutSeconds,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'framework.onEvent',
      Environment: { Variables: { USER_ON_EVENT_FUNCTION_ARN: arnOf(stack.signingKey.initFunction.function) } },
    });
  });

  it('lets the seeding function only read, describe and put values of that one secret', () => {
    const statements = sortedActions(statementsOfRole(template, logicalId(stack.signingKey.initFunction.role)));
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    const secretActions = secretStatements.flatMap((s) => [s.Action].flat()).sort();
    expect(secretActions).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    for (const s of secretStatements) expect(s.Resource).toEqual({ Ref: logicalId(stack.signingKey.secret) });
    expect([...new Set(actionsOfRole(template, logicalId(stack.signingKey.initFunction.role)))].sort()).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments', ...secretActions].sort(),
    );
  });

  it('lets only the seeding function generate data keys with the secret key, and only through Secrets Manager', () => {
    const keyPolicy = resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> };
    const generate = keyPolicy.Statement.filter((s) => s.Action === 'kms:GenerateDataKey');
    expect(generate).toEqual([
      expect.objectContaining({
        Principal: { AWS: arnOf(stack.signingKey.initFunction.role) },
        Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
      }),
    ]);
  });

  it('gives the provider framework its own role that only invokes the seeding function and writes its logs', () => {
    const providerFn = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'framework.onEvent')!;
    const roleId = (providerFn[1].Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    const actions = [...new Set(actionsOfRole(template, roleId))].sort();
    expect(actions).toEqual(['lambda:GetFunction', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents']);
  });

  it('grants no secret update or deletion to any role', () => {
    const all = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }).Statement)
      .flatMap((s) => [s.Action].flat());
    for (const forbidden of ['secretsmanager:UpdateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:PutResourcePolicy', 'secretsmanager:*']) {
      expect(all).not.toContain(forbidden);
    }
  });
});
