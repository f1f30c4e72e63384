import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import { BASE_ENVIRONMENT } from '../../lib/gatehouse-function.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { FUNCTIONS, type Capability } from '../../lib/functions.js';
import type { HandlerFunctionName } from '../../lib/handler-functions.js';
import { actionsOfRole, arnOf, defaultConfig, logicalId, statementsOfRole, synthGatehouse, type Statement } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const TABLE_READ = ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:Query', 'dynamodb:Scan'];
const TABLE_WRITE = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const TABLE_KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const TABLE_KEY_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];
const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const ALWAYS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems', 'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'];

/** What a capability set must allow, and nothing beyond it. */
function expectedActions(capabilities: readonly Capability[]): string[] {
  const actions = new Set(ALWAYS);
  const has = (c: Capability) => capabilities.includes(c);
  if (has('table:read')) [...TABLE_READ, ...TABLE_KEY_READ].forEach((a) => actions.add(a));
  if (has('table:write')) [...TABLE_WRITE, ...TABLE_KEY_WRITE].forEach((a) => actions.add(a));
  if (has('signing-key:read')) SECRET_READ.forEach((a) => actions.add(a));
  if (has('workflow:start')) actions.add('states:StartExecution');
  return [...actions].sort();
}

const names = Object.keys(FUNCTIONS) as HandlerFunctionName[];

describe('HandlerFunctions', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
  });

  const props = (name: HandlerFunctionName) => resources[logicalId(stack.handlers.functions[name])]!.Properties;
  const env = (name: HandlerFunctionName) => (props(name).Environment as { Variables: Record<string, unknown> }).Variables;
  const roleId = (name: HandlerFunctionName) => logicalId(stack.handlers.constructsByName[name].role);

  it('creates one function per entry in FUNCTIONS', () => {
    expect(Object.keys(stack.handlers.functions).sort()).toEqual([...names].sort());
    expect(new Set(names.map((n) => logicalId(stack.handlers.functions[n]))).size).toBe(names.length);
  });

  describe.each(names)('%s', (name) => {
    const spec = FUNCTIONS[name];
    const has = (c: Capability) => spec.capabilities.includes(c);

    it('runs Node.js 22 on arm64 with active tracing and the memory and timeout of its spec', () => {
      expect(props(name)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: spec.memorySize,
        Timeout: spec.timeoutSeconds,
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalId(stack.handlers.constructsByName[name].logGroup) } },
      });
    });

    it('carries the base and deployment settings every handler reads', () => {
      const config = defaultConfig();
      expect(env(name)).toMatchObject({
        ...BASE_ENVIRONMENT,
        [ENV.tokenAudience]: config.tokenAudience,
        [ENV.softwareStatementIssuer]: config.softwareStatementIssuer,
        [ENV.consumerCacheMs]: '5000',
        [ENV.issuer]: expect.anything(),
      });
      expect(JSON.parse(env(name)[ENV.softwareStatementJwks] as string)).toEqual(config.softwareStatementJwks);
    });

    it(`has the table name only with a table capability (${has('table:read') || has('table:write') ? 'has' : 'none'})`, () => {
      if (has('table:read') || has('table:write')) expect(env(name)[ENV.tableName]).toEqual({ Ref: logicalId(stack.registry.table) });
      else expect(env(name)).not.toHaveProperty(ENV.tableName);
    });

    it(`has the signing secret id only with a signing-key capability (${has('signing-key:read') ? 'has' : 'none'})`, () => {
      if (has('signing-key:read')) expect(env(name)[ENV.signingKeySecretId]).toEqual({ Ref: logicalId(stack.signingKey.secret) });
      else expect(env(name)).not.toHaveProperty(ENV.signingKeySecretId);
    });

    it(`has the state machine ARN only with workflow:start (${has('workflow:start') ? 'has' : 'none'})`, () => {
      if (has('workflow:start')) expect(env(name)[ENV.stateMachineArn]).toEqual({ Ref: logicalId(stack.reviewWorkflow.stateMachine) });
      else expect(env(name)).not.toHaveProperty(ENV.stateMachineArn);
    });

    it('is allowed exactly the actions its capabilities need', () => {
      expect([...new Set(actionsOfRole(template, roleId(name)))].sort()).toEqual(expectedActions(spec.capabilities));
    });

    it(`cannot write to the table unless it has table:write (${has('table:write') ? 'can' : 'cannot'})`, () => {
      const actions = actionsOfRole(template, roleId(name));
      if (has('table:write')) expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
      else for (const write of WRITES) expect(actions).not.toContain(write);
      expect(actions.filter((a) => a.includes('*') && !a.startsWith('kms:'))).toEqual([]);
    });

    it('scopes every statement to Gatehouse resources; only X-Ray uses "*"', () => {
      const allowed = [
        JSON.stringify(arnOf(stack.handlers.constructsByName[name].logGroup)),
        JSON.stringify(arnOf(stack.registry.table)),
        JSON.stringify(arnOf(stack.registry.encryptionKey)),
        JSON.stringify({ Ref: logicalId(stack.signingKey.secret) }),
        JSON.stringify({ Ref: logicalId(stack.reviewWorkflow.stateMachine) }),
        JSON.stringify({ 'Fn::Join': ['', [arnOf(stack.registry.table), '/index/*']] }),
      ];
      for (const statement of statementsOfRole(template, roleId(name)) as Statement[]) {
        expect(statement.Effect).toBe('Allow');
        expect(statement.Condition).toBeUndefined();
        const targets = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        if (targets.includes('*')) {
          expect([statement.Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
          continue;
        }
        for (const target of targets) expect(allowed).toContain(JSON.stringify(target));
      }
    });
  });

  it('lets only the signing-key readers (and the seeding function) decrypt the signing secret, via Secrets Manager', () => {
    const readers = names.filter((n) => FUNCTIONS[n].capabilities.includes('signing-key:read')).map(roleId);
    const keyPolicy = resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> };
    const decrypt = keyPolicy.Statement.filter((s) => s.Action === 'kms:Decrypt');
    expect(decrypt).toHaveLength(1);
    const principals = [(decrypt[0]!.Principal as { AWS: unknown }).AWS].flat().map((p) => (p as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]);
    expect(principals.sort()).toEqual([...readers, logicalId(stack.signingKey.initFunction.role)].sort());
    expect(decrypt[0]!.Condition).toMatchObject({ StringEquals: { 'kms:ViaService': expect.anything() } });
  });

  it('keeps function logs a year in log groups encrypted with the logs key', () => {
    for (const name of names) {
      expect(resources[logicalId(stack.handlers.constructsByName[name].logGroup)]!.Properties).toEqual({
        KmsKeyId: arnOf(stack.logEncryptionKey.key),
        RetentionInDays: 365,
      });
    }
  });
});
