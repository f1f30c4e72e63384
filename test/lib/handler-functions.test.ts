import { App, Stack, Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, MAIL_FROM_ENV } from '../../lambdas/adapters/aws/env.js';
import {
  CLIENT_SECRET_CREATE_ACTIONS,
  CLIENT_SECRET_DELETE_ACTIONS,
  CLIENT_SECRET_LIST_ACTIONS,
  CLIENT_SECRET_MANAGE_ACTIONS,
  CLIENT_SECRET_READ_ACTIONS,
  CLIENT_SECRET_ROTATE_ACTIONS,
} from '../../lib/client-secrets.js';
import { BASE_ENVIRONMENT } from '../../lib/gatehouse-function.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { accessOf, READ_ACTIONS } from '../../lambdas/adapters/aws/registry-access.js';
import { FUNCTIONS, type Capability, type FunctionSpec } from '../../lambdas/contracts/functions.js';
import {
  HandlerFunctions,
  type ClientSecretsAccess,
  type HandlerFunctionName,
  type HandlerFunctionsProps,
  CLIENT_SECRET_CAPABILITIES,
} from '../../lib/handler-functions.js';
import { actionsOfRole, arnOf, defaultConfig, logicalId, statementsOfRole, synthGatehouse, type Statement } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const TABLE_READ = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const TABLE_WRITE = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
const TABLE_KEY_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const TABLE_KEY_WRITE = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];
const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
const PUBLIC_KEYS_READ = ['kms:Decrypt', 'secretsmanager:GetSecretValue'];
const ALWAYS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const TASK_CALLBACK = ['states:SendTaskFailure', 'states:SendTaskSuccess'];
const XRAY = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
/** `arn:<partition>:ses:<region>:<account>:identity/<identity>` of an identity Gatehouse does not create. */
const sesIdentityArn = (identity: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:identity/${identity}`]],
});
const WRITES = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:TransactWriteItems',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];

/** What a function is allowed beyond its capabilities: the sweep sends failed runs to its dead-letter queue (LifecycleSweep). */
const BEYOND_CAPABILITIES: Partial<Record<HandlerFunctionName, readonly string[]>> = { sweep: ['sqs:SendMessage', 'kms:Decrypt', 'kms:GenerateDataKey'] };

/** What a spec's capabilities (and registry operations) must allow, and nothing beyond them. */
function expectedActions(spec: Pick<FunctionSpec, 'capabilities' | 'registry'>, extra: readonly string[] = []): string[] {
  const actions = new Set([...ALWAYS, ...extra]);
  const has = (c: Capability) => spec.capabilities.includes(c);
  if (spec.registry) {
    // Exactly the DynamoDB actions of the operations listed, with the table key as a reader (and writer) needs it.
    const { table, attentionIndex } = accessOf(spec.registry);
    const dynamo = [...table, ...attentionIndex];
    dynamo.forEach((a) => actions.add(`dynamodb:${a}`));
    if (dynamo.length > 0) TABLE_KEY_READ.forEach((a) => actions.add(a));
    if (dynamo.some((a) => !READ_ACTIONS.includes(a))) TABLE_KEY_WRITE.forEach((a) => actions.add(a));
  } else {
    if (has('table:read')) [...TABLE_READ, ...TABLE_KEY_READ].forEach((a) => actions.add(a));
    if (has('table:write')) [...TABLE_WRITE, ...TABLE_KEY_WRITE].forEach((a) => actions.add(a));
  }
  if (has('table:count-software-consumers')) ['dynamodb:Query', ...TABLE_KEY_READ].forEach((a) => actions.add(a));
  if (has('signing-key:read')) SECRET_READ.forEach((a) => actions.add(a));
  if (has('signing-key:read-public')) PUBLIC_KEYS_READ.forEach((a) => actions.add(a));
  if (has('workflow:start') || has('notice:send')) actions.add('states:StartExecution');
  if (has('workflow:callback')) TASK_CALLBACK.forEach((a) => actions.add(a));
  if (has('mail:send') || has('link-mail:send')) actions.add('ses:SendEmail');
  if (has('client-secrets:create')) [...CLIENT_SECRET_CREATE_ACTIONS, 'lambda:InvokeFunction'].forEach((a) => actions.add(a));
  if (has('client-secrets:read')) CLIENT_SECRET_READ_ACTIONS.forEach((a) => actions.add(a));
  if (has('client-secrets:manage')) [...CLIENT_SECRET_MANAGE_ACTIONS, 'lambda:InvokeFunction'].forEach((a) => actions.add(a));
  if (has('client-secrets:delete')) CLIENT_SECRET_DELETE_ACTIONS.forEach((a) => actions.add(a));
  if (has('client-secrets:list')) CLIENT_SECRET_LIST_ACTIONS.forEach((a) => actions.add(a));
  if (has('client-secrets:rotate')) CLIENT_SECRET_ROTATE_ACTIONS.forEach((a) => actions.add(a));
  return [...actions].sort();
}

/** HandlerFunctions in a bare stack, with stand-ins for everything but the functions. */
function bareHandlerFunctions(
  id: string,
  overrides: Partial<HandlerFunctionsProps> | ((scope: Stack) => Partial<HandlerFunctionsProps>),
): () => HandlerFunctions {
  const scope = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), id);
  const config = defaultConfig();
  const clientSecrets: ClientSecretsAccess = {
    prefix: 'gatehouse/test/clients/',
    encryptionKey: new kms.Key(scope, 'ClientSecretKey'),
    grantCreate: () => undefined,
    grantRead: () => undefined,
    grantManage: () => undefined,
    grantDelete: () => undefined,
    grantList: () => undefined,
    grantRotate: () => undefined,
    useRotationFunction: () => undefined,
  };
  return () =>
    new HandlerFunctions(scope, 'Handlers', {
      policy: config.policy,
      table: new dynamodb.Table(scope, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } }),
      signingKey: {
        secret: secretsmanager.Secret.fromSecretNameV2(scope, 'Secret', 'signing'),
        publicSecret: secretsmanager.Secret.fromSecretNameV2(scope, 'PublicKeys', 'signing-public'),
        grantRead: () => undefined,
        grantReadPublic: () => undefined,
        grantWrite: () => undefined,
      },
      config: { ...config, consumerCacheMs: 5000 },
      logEncryptionKey: new kms.Key(scope, 'Key'),
      mail: { from: config.mailFrom, grantSend: () => undefined },
      noticeWorkflow: sfn.StateMachine.fromStateMachineName(scope, 'Notices', 'notices'),
      clientSecrets,
      ...(typeof overrides === 'function' ? overrides(scope) : overrides),
    });
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

    it('runs Node.js 24 on arm64 with active tracing and the memory and timeout of its spec', () => {
      expect(props(name)).toMatchObject({
        Runtime: 'nodejs24.x',
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
      expect(JSON.parse(env(name)[ENV.reviewers] as string)).toEqual(config.reviewers);
    });

    it(`has the sender address only with mail:send or link-mail:send (${has('mail:send') || has('link-mail:send') ? 'has' : 'none'})`, () => {
      if (has('mail:send') || has('link-mail:send')) expect(env(name)[MAIL_FROM_ENV]).toBe(defaultConfig().mailFrom);
      else expect(env(name)).not.toHaveProperty(MAIL_FROM_ENV);
    });

    it(`has the notice state machine ARN only with notice:send (${has('notice:send') ? 'has' : 'none'})`, () => {
      if (has('notice:send')) expect(env(name)[ENV.noticeStateMachineArn]).toEqual({ Ref: logicalId(stack.noticeWorkflow.stateMachine) });
      else expect(env(name)).not.toHaveProperty(ENV.noticeStateMachineArn);
    });

    it(`has the table name only with a table capability (${has('table:read') || has('table:write') ? 'has' : 'none'})`, () => {
      if (has('table:read') || has('table:write')) expect(env(name)[ENV.tableName]).toEqual({ Ref: logicalId(stack.registry.table) });
      else expect(env(name)).not.toHaveProperty(ENV.tableName);
    });

    it(`has the signing secret id only with signing-key:read (${has('signing-key:read') ? 'has' : 'none'})`, () => {
      if (has('signing-key:read')) expect(env(name)[ENV.signingKeySecretId]).toEqual({ Ref: logicalId(stack.signingKey.secret) });
      else expect(env(name)).not.toHaveProperty(ENV.signingKeySecretId);
    });

    it(`has the public-key secret id only with signing-key:read-public (${has('signing-key:read-public') ? 'has' : 'none'})`, () => {
      if (has('signing-key:read-public')) expect(env(name)[ENV.publicKeysSecretId]).toEqual({ Ref: logicalId(stack.signingKey.publicSecret) });
      else expect(env(name)).not.toHaveProperty(ENV.publicKeysSecretId);
    });

    it(`has the client-secret prefix and key only with a client-secrets capability (${CLIENT_SECRET_CAPABILITIES.some(has) ? 'has' : 'none'})`, () => {
      if (CLIENT_SECRET_CAPABILITIES.some(has)) {
        expect(env(name)[ENV.clientSecretPrefix]).toBe('gatehouse/Gatehouse/clients/');
        expect(env(name)[ENV.clientSecretKeyId]).toEqual(arnOf(stack.clientSecrets.encryptionKey));
      } else {
        expect(env(name)).not.toHaveProperty(ENV.clientSecretPrefix);
        expect(env(name)).not.toHaveProperty(ENV.clientSecretKeyId);
      }
    });

    it(`has the client-secret rotation function's ARN only with client-secrets:create or :manage (${has('client-secrets:create') || has('client-secrets:manage') ? 'has' : 'none'})`, () => {
      if (has('client-secrets:create') || has('client-secrets:manage'))
        expect(env(name)[ENV.clientSecretRotationArn]).toEqual(arnOf(stack.handlers.functions['client-secret-rotation']));
      else expect(env(name)).not.toHaveProperty(ENV.clientSecretRotationArn);
    });

    it(`has the state machine ARN only with workflow:start (${has('workflow:start') ? 'has' : 'none'})`, () => {
      if (has('workflow:start')) expect(env(name)[ENV.stateMachineArn]).toEqual({ Ref: logicalId(stack.reviewWorkflow.stateMachine) });
      else expect(env(name)).not.toHaveProperty(ENV.stateMachineArn);
    });

    it(`has a spec concurrency (${spec.reservedConcurrency}), reserved only when the stack's reservedConcurrency is on (off here)`, () => {
      expect(spec.reservedConcurrency).toBeGreaterThan(0);
      expect(props(name)).not.toHaveProperty('ReservedConcurrentExecutions');
    });

    it('keeps its permissions in a customer-managed policy, none inline', () => {
      expect(resources[roleId(name)]!.Properties.Policies).toBeUndefined();
      expect(logicalId(stack.handlers.constructsByName[name].role.permissionsPolicy!)).toBeDefined();
      expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId(name)))).toEqual([]);
    });

    it('is allowed exactly the actions its capabilities need', () => {
      expect([...new Set(actionsOfRole(template, roleId(name)))].sort()).toEqual(expectedActions(spec, BEYOND_CAPABILITIES[name]));
    });

    it(`cannot write to the table unless it has table:write (${has('table:write') ? 'can' : 'cannot'})`, () => {
      const actions = actionsOfRole(template, roleId(name));
      if (has('table:write')) expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem']));
      else for (const write of WRITES) expect(actions).not.toContain(write);
      expect(actions.filter((a) => a.includes('*') && !a.startsWith('kms:'))).toEqual([]);
    });

    it(`scopes every statement to Gatehouse resources; "*" only for X-Ray${has('workflow:callback') ? ' and task callbacks' : ''}${has('client-secrets:list') ? ' and ListSecrets' : ''}`, () => {
      const allowed = [
        JSON.stringify(arnOf(stack.handlers.constructsByName[name].logGroup)),
        JSON.stringify(arnOf(stack.registry.table)),
        JSON.stringify(arnOf(stack.registry.encryptionKey)),
        JSON.stringify({ Ref: logicalId(stack.signingKey.secret) }),
        JSON.stringify({ Ref: logicalId(stack.signingKey.publicSecret) }),
        JSON.stringify(arnOf(stack.signingKey.encryptionKey)),
        JSON.stringify({ Ref: logicalId(stack.reviewWorkflow.stateMachine) }),
        JSON.stringify({ Ref: logicalId(stack.noticeWorkflow.stateMachine) }),
        JSON.stringify({ 'Fn::Join': ['', [arnOf(stack.registry.table), '/index/attention']] }),
        ...(has('table:count-software-consumers') ? [JSON.stringify({ 'Fn::Join': ['', [arnOf(stack.registry.table), '/index/software']] })] : []),
        JSON.stringify(sesIdentityArn('bank.example')),
        JSON.stringify(stack.resolve(stack.clientSecrets.secretArnPattern)),
        JSON.stringify(arnOf(stack.handlers.functions['client-secret-rotation'])),
        ...(name === 'sweep' ? [JSON.stringify(arnOf(stack.lifecycleSweep.deadLetterQueue)), JSON.stringify(arnOf(stack.lifecycleSweep.encryptionKey))] : []),
      ];
      for (const statement of statementsOfRole(template, roleId(name)) as Statement[]) {
        expect(statement.Effect).toBe('Allow');
        const actions = [statement.Action].flat().sort();
        // The only condition is the sender address on the SES grant (asserted in full below).
        if (actions.includes('ses:SendEmail')) expect(statement.Condition).toEqual({ StringEquals: { 'ses:FromAddress': expect.any(String) } });
        // A function with client-secrets:create and :delete has two DeleteSecret grants: the create grant's roll-back of
        // an issue (conditioned, asserted in full with ClientSecrets) and the delete grant's, with a recovery window.
        else if (has('client-secrets:create') && has('client-secrets:delete') && JSON.stringify(actions) === JSON.stringify([...CLIENT_SECRET_DELETE_ACTIONS]))
          expect([undefined, 'Null']).toContain(Object.keys(statement.Condition ?? {})[0]);
        // client-secrets:create and :read narrow their <prefix>* grants by condition (asserted in full with ClientSecrets).
        else if (actions.every((a) => a.startsWith('secretsmanager:')) && (has('client-secrets:create') || has('client-secrets:read')))
          expect(statement.Condition).toBeDefined();
        else if (JSON.stringify(statement.Resource) === JSON.stringify(arnOf(stack.signingKey.encryptionKey))) {
          // signing-key:read-public: the signing key's KMS key only through Secrets Manager, for the public-key secret only.
          expect(statement.Condition).toEqual({
            StringEquals: {
              'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              'kms:EncryptionContext:SecretARN': { Ref: logicalId(stack.signingKey.publicSecret) },
            },
          });
        } else expect(statement.Condition).toBeUndefined();
        const targets = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        if (targets.includes('*')) {
          expect(targets).toEqual(['*']);
          expect(actions).toEqual(
            [...(has('workflow:callback') ? TASK_CALLBACK : []), ...(has('client-secrets:list') ? CLIENT_SECRET_LIST_ACTIONS : []), ...XRAY].sort(),
          );
          continue;
        }
        for (const target of targets) expect(allowed).toContain(JSON.stringify(target));
      }
    });
  });

  it('lets the review function resume parked review tasks: SendTaskSuccess and SendTaskFailure, no other Step Functions action', () => {
    const statements = statementsOfRole(template, roleId('review'));
    const states = statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('states:'));
    expect(states.sort()).toEqual(TASK_CALLBACK);
    // Task-token actions support no resource-level permissions, so "*" (acknowledged for cdk-nag with the reason).
    for (const statement of statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')))) expect(statement.Resource).toBe('*');
    // Nothing names a state machine or execution: no StartExecution, StopExecution, DescribeExecution or heartbeat.
    expect(JSON.stringify(statements)).not.toContain(logicalId(stack.reviewWorkflow.stateMachine));
    expect(states).not.toContain('states:SendTaskHeartbeat');
  });

  it('lets only the functions with workflow:callback send task responses', () => {
    const senders = names.filter((n) => actionsOfRole(template, roleId(n)).some((a) => a.startsWith('states:SendTask')));
    expect(senders).toEqual(names.filter((n) => FUNCTIONS[n].capabilities.includes('workflow:callback')));
    expect(senders).toEqual(['review']);
  });

  it('lets review-task send email only through the SES identity and only from the configured sender', () => {
    const ses = statementsOfRole(template, roleId('review-task')).filter((s) => [s.Action].flat().some((a) => a.startsWith('ses:')));
    expect(ses).toEqual([
      {
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: sesIdentityArn('bank.example'),
        Condition: { StringEquals: { 'ses:FromAddress': 'gatehouse@bank.example' } },
      },
    ]);
  });

  it('lets only the functions with mail:send or link-mail:send use SES', () => {
    const senders = names.filter((n) => actionsOfRole(template, roleId(n)).some((a) => a.startsWith('ses:')));
    expect(senders).toEqual(names.filter((n) => FUNCTIONS[n].capabilities.some((c) => c === 'mail:send' || c === 'link-mail:send')));
    // Review requests (signed links) and review outcomes, within the review workflow's retries; an operator's resend of a
    // round's links; the sweep's attestation links (its other mail goes through the notice workflow).
    expect(senders).toEqual(['review-task', 'review-links', 'sweep']);
  });

  it('lets the notifying functions start notice executions, and only those: rotation notices, admin changes, registration updates and deletes, lifecycle notices', () => {
    const notice = { Ref: logicalId(stack.noticeWorkflow.stateMachine) };
    const starters = names.filter((n) => JSON.stringify(statementsOfRole(template, roleId(n))).includes(JSON.stringify(notice)));
    expect(starters).toEqual(names.filter((n) => FUNCTIONS[n].capabilities.includes('notice:send')));
    expect(starters).toEqual(['recertification', 'client-secret-rotation', 'admin', 'registration-manage', 'sweep']);
    for (const name of starters) {
      const grants = (statementsOfRole(template, roleId(name)) as Statement[]).filter((st) => JSON.stringify(st.Resource).includes(JSON.stringify(notice)));
      expect(
        grants.flatMap((st) => [st.Action].flat()),
        name,
      ).toEqual(['states:StartExecution']);
    }
  });

  it('acknowledges the task-callback "*" on the review role only, naming the two actions', () => {
    const reasons = (n: HandlerFunctionName) =>
      stack.handlers.constructsByName[n].role.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([id]) => id.endsWith('AwsSolutions-IAM5[Resource::*]'))
        .map(([, reason]) => reason);
    expect(reasons('review').some((r) => r.includes('states:SendTaskSuccess') && r.includes('states:SendTaskFailure'))).toBe(true);
    for (const other of names.filter((n) => n !== 'review'))
      expect(
        reasons(other).some((r) => r.includes('SendTask')),
        other,
      ).toBe(false);
  });

  it('sends from an address identity, and creates the SES identity when asked', () => {
    const { stack: created, template: createdTemplate } = synthGatehouse({
      mailFrom: 'onboarding@api.bank.example',
      sesIdentity: 'onboarding@api.bank.example',
      createSesIdentity: true,
    });
    createdTemplate.resourceCountIs('AWS::SES::EmailIdentity', 1);
    createdTemplate.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'onboarding@api.bank.example' });
    const ses = statementsOfRole(createdTemplate, logicalId(created.handlers.constructsByName['review-task'].role)).filter((s) => s.Action === 'ses:SendEmail');
    expect(ses).toHaveLength(1);
    expect(ses[0]!.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'onboarding@api.bank.example' } });
    expect(JSON.stringify(ses[0]!.Resource)).toContain(logicalId(created.mail.identity));
    template.resourceCountIs('AWS::SES::EmailIdentity', 0);
  });

  it('covers the SES configuration set in every send grant when one is configured (SES authorises both resources)', () => {
    const { stack: withSet, template: withSetTemplate } = synthGatehouse({ sesConfigurationSet: 'gatehouse-mail' });
    const configurationSetArn = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':configuration-set/gatehouse-mail'],
      ],
    };
    const sendGrants = [
      ...statementsOfRole(withSetTemplate, logicalId(withSet.handlers.constructsByName['review-task'].role)),
      ...statementsOfRole(withSetTemplate, logicalId(withSet.noticeWorkflow.stateMachine.role)),
    ].filter((s) => s.Action === 'ses:SendEmail');
    expect(sendGrants).toHaveLength(2);
    for (const grant of sendGrants) expect(grant.Resource).toEqual(expect.arrayContaining([sesIdentityArn('bank.example'), configurationSetArn]));
    for (const grant of sendGrants) expect(grant.Resource).toHaveLength(2);
    // Without one, the identity alone.
    const plain = statementsOfRole(template, roleId('review-task')).filter((s) => s.Action === 'ses:SendEmail');
    expect(plain[0]!.Resource).toEqual(sesIdentityArn('bank.example'));
  });

  it('lets the token function get, put and update registry items, on the table only: no query, scan or delete, no index', () => {
    const dynamo = (statementsOfRole(template, roleId('token')) as Statement[]).filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: arnOf(stack.registry.table) },
    ]);
    // Registration-read reads one consumer and, when it hands out the secret, replaces its registration access token.
    const reader = (statementsOfRole(template, roleId('registration-read')) as Statement[]).filter((st) =>
      [st.Action].flat().some((a) => a.startsWith('dynamodb:')),
    );
    expect(reader).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: arnOf(stack.registry.table),
      },
    ]);
  });

  it('refuses registry operations its table capabilities do not cover', () => {
    const readOnlyToken = bareHandlerFunctions('ReadOnlyToken', {
      functions: { ...FUNCTIONS, token: { ...FUNCTIONS.token, capabilities: ['table:read', 'signing-key:read'] } },
    });
    expect(readOnlyToken).toThrow(/grantTableAccess: the registry operations getConsumer, recordScopes, recordUse, claimOnce need table:write/);
    const writeOnlyAdmin = bareHandlerFunctions('WriteOnlyAdmin', {
      functions: { ...FUNCTIONS, admin: { ...FUNCTIONS.admin, capabilities: FUNCTIONS.admin.capabilities.filter((c) => c !== 'table:read') } },
    });
    expect(writeOnlyAdmin).toThrow(/need table:read$/);
  });

  it('refuses a handler with the signing-key:rotate capability (only the rotation function restages the secret)', () => {
    const build = bareHandlerFunctions('NoRotate', {
      functions: { ...FUNCTIONS, discovery: { ...FUNCTIONS.discovery, capabilities: ['signing-key:read', 'signing-key:rotate'] } },
    });
    expect(build).toThrow(/discovery has the signing-key:rotate capability, which only SigningKey's rotation function holds/);
  });

  it('sets the service documentation URL only when one is configured', () => {
    expect(env('discovery')).not.toHaveProperty(ENV.serviceDocumentation);

    const url = 'https://developer.bank.example/gatehouse';
    const handlers = bareHandlerFunctions('Documented', { config: { ...defaultConfig(), consumerCacheMs: 5000, serviceDocumentation: url } })();
    const cfn = handlers.functions.discovery.node.defaultChild as lambda.CfnFunction;
    expect(Stack.of(handlers).resolve(cfn.environment)).toMatchObject({ variables: { [ENV.serviceDocumentation]: url } });
  });

  it('refuses a mail:send function without a mail sender', () => {
    expect(bareHandlerFunctions('NoMail', { mail: undefined })).toThrow(/review-task has a mail:send capability but no mail sender was given/);
  });

  it('refuses a notice:send function without the notice workflow, and a function that would send both ways', () => {
    expect(bareHandlerFunctions('NoNotices', { noticeWorkflow: undefined })).toThrow(
      /recertification has the notice:send capability but no notice workflow was given/,
    );
    const both = bareHandlerFunctions('BothWays', {
      functions: { ...FUNCTIONS, admin: { ...FUNCTIONS.admin, capabilities: [...FUNCTIONS.admin.capabilities, 'mail:send'] } },
    });
    expect(both).toThrow(/admin has both mail:send and notice:send/);
  });

  it('refuses a client-secrets function without the client secrets', () => {
    expect(bareHandlerFunctions('NoClientSecrets', { clientSecrets: undefined })).toThrow(
      /register has a client-secrets capability but no client secrets were given/,
    );
  });

  it('refuses client-secrets:create without a client-secrets:rotate function, and a second rotation function', () => {
    const withoutRotation = bareHandlerFunctions('NoRotation', {
      functions: {
        ...FUNCTIONS,
        'client-secret-rotation': { ...FUNCTIONS['client-secret-rotation'], capabilities: ['table:read', 'table:write', 'mail:send'] },
      },
    });
    expect(withoutRotation).toThrow(/register, registration-manage has client-secrets:create but no function has client-secrets:rotate/);
    const withoutCreate = (capabilities: readonly Capability[]) => capabilities.filter((c) => c !== 'client-secrets:create');
    const manageWithoutRotation = bareHandlerFunctions('ManageWithoutRotation', {
      functions: {
        ...FUNCTIONS,
        register: { ...FUNCTIONS.register, capabilities: withoutCreate(FUNCTIONS.register.capabilities) },
        'registration-manage': { ...FUNCTIONS['registration-manage'], capabilities: withoutCreate(FUNCTIONS['registration-manage'].capabilities) },
        'client-secret-rotation': { ...FUNCTIONS['client-secret-rotation'], capabilities: ['table:read', 'table:write', 'mail:send'] },
      },
    });
    expect(manageWithoutRotation).toThrow(/admin has client-secrets:manage but no function has client-secrets:rotate/);
    const twoRotations = bareHandlerFunctions('TwoRotations', {
      functions: { ...FUNCTIONS, revocation: { ...FUNCTIONS.revocation, capabilities: ['table:read', 'table:write', 'client-secrets:rotate'] } },
    });
    expect(twoRotations).toThrow(/only one function may have client-secrets:rotate .* got revocation, client-secret-rotation/);
  });

  it('hands the client secrets the rotation function, and names it in the create grant', () => {
    const calls: string[] = [];
    const path = (grantee: iam.IGrantable | lambda.IFunction) => (grantee as unknown as IConstruct).node.path.replace(/^Recorded\/Handlers\//, '');
    const handlers = bareHandlerFunctions('Recorded', (scope) => ({
      clientSecrets: {
        prefix: 'gatehouse/test/clients/',
        encryptionKey: new kms.Key(scope, 'RecordedKey'),
        grantCreate: (grantee, rotationFunction) => calls.push(`create ${path(grantee)} -> ${path(rotationFunction)}`),
        grantRead: (grantee) => calls.push(`read ${path(grantee)}`),
        grantManage: (grantee, rotationFunction) => calls.push(`manage ${path(grantee)} -> ${path(rotationFunction)}`),
        grantDelete: (grantee) => calls.push(`delete ${path(grantee)}`),
        grantList: (grantee) => calls.push(`list ${path(grantee)}`),
        grantRotate: (grantee) => calls.push(`rotate ${path(grantee)}`),
        useRotationFunction: (fn) => calls.push(`use ${path(fn)}`),
      },
    }))();
    expect(calls.sort()).toEqual(
      [
        'create Register/Function -> ClientSecretRotation/Function',
        'create RegistrationManage/Function -> ClientSecretRotation/Function',
        'read RegistrationRead/Function',
        'manage Admin/Function -> ClientSecretRotation/Function',
        'delete Sweep/Function',
        'delete RegistrationManage/Function',
        'delete Recertification/Function',
        'list Sweep/Function',
        'rotate ClientSecretRotation/Function',
        'use ClientSecretRotation/Function',
      ].sort(),
    );
    expect(handlers.functions['client-secret-rotation'].node.path).toBe('Recorded/Handlers/ClientSecretRotation/Function');
  });

  it('gives the functions that only verify no grant on the private signing-key secret, only on the public keys', () => {
    const verifiers = names.filter((n) => FUNCTIONS[n].capabilities.includes('signing-key:read-public'));
    expect(verifiers.sort()).toEqual(['discovery', 'introspection', 'recertification', 'review', 'revocation']);
    const privateSecret = JSON.stringify({ Ref: logicalId(stack.signingKey.secret) });
    for (const name of verifiers) {
      expect(FUNCTIONS[name].capabilities).not.toContain('signing-key:read');
      const statements = statementsOfRole(template, roleId(name)) as Statement[];
      expect(statements.filter((s) => JSON.stringify(s.Resource).includes(privateSecret))).toEqual([]);
      // (The attestation pages also delete a deregistered consumer's client secret: not a read.)
      expect(statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toEqual([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: logicalId(stack.signingKey.publicSecret) } }),
      ]);
      expect(
        statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')) && JSON.stringify(s).includes(logicalId(stack.signingKey.encryptionKey))),
      ).toEqual([
        expect.objectContaining({
          Action: 'kms:Decrypt',
          Condition: { StringEquals: expect.objectContaining({ 'kms:EncryptionContext:SecretARN': { Ref: logicalId(stack.signingKey.publicSecret) } }) },
        }),
      ]);
    }
    // Nor does the signing key's key policy name them.
    const keyPolicy = JSON.stringify(resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy);
    for (const name of verifiers) expect(keyPolicy).not.toContain(roleId(name));
  });

  it('lets only the signing-key readers (and the seeding and rotation functions) decrypt the signing secret, via Secrets Manager', () => {
    const readers = names.filter((n) => FUNCTIONS[n].capabilities.includes('signing-key:read')).map(roleId);
    const keyPolicy = resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy as { Statement: Array<Record<string, unknown>> };
    const decrypt = keyPolicy.Statement.filter((s) => s.Action === 'kms:Decrypt');
    expect(decrypt).toHaveLength(1);
    const principals = [(decrypt[0]!.Principal as { AWS: unknown }).AWS].flat().map((p) => (p as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]);
    expect(principals.sort()).toEqual([...readers, logicalId(stack.signingKey.initFunction.role), logicalId(stack.signingKey.rotationFunction.role)].sort());
    expect(decrypt[0]!.Condition).toMatchObject({ StringEquals: { 'kms:ViaService': expect.anything() } });
  });

  it('gives admin workflow:start (exception and reinstatement reviews) without creating secrets, review-task no secret access, and the sweep only client-secrets:delete and :list', () => {
    expect(FUNCTIONS.admin.capabilities).toEqual(expect.arrayContaining(['workflow:start', 'client-secrets:manage']));
    expect(FUNCTIONS.admin.capabilities).not.toContain('client-secrets:create');
    expect(FUNCTIONS['review-task'].capabilities.filter((c) => c.startsWith('client-secrets:'))).toEqual([]);
    expect(FUNCTIONS['review-task'].capabilities).not.toContain('workflow:start');
    expect(FUNCTIONS.sweep.capabilities.filter((c) => c.startsWith('client-secrets:'))).toEqual(['client-secrets:delete', 'client-secrets:list']);
    // Both start review workflows: admin for exceptions and reinstatements, the sweep to restart a stalled registration's.
    for (const name of ['admin', 'sweep'] as const) {
      const starts = (statementsOfRole(template, roleId(name)) as Statement[]).filter((st) => [st.Action].flat().includes('states:StartExecution'));
      expect(starts.flatMap((st) => [st.Resource].flat())).toContainEqual({ Ref: logicalId(stack.reviewWorkflow.stateMachine) });
      expect(env(name)[ENV.stateMachineArn]).toEqual({ Ref: logicalId(stack.reviewWorkflow.stateMachine) });
    }
    for (const name of ['admin', 'review-task'] as const) {
      expect(actionsOfRole(template, roleId(name))).not.toContain('secretsmanager:CreateSecret');
    }
  });

  it("reserves concurrency per function, with the token function's overridable", () => {
    expect(FUNCTIONS.token.reservedConcurrency).toBe(100);
    const custom = bareHandlerFunctions('TokenConcurrency', { reservedConcurrency: { token: 300 } })();
    const reserved = (name: HandlerFunctionName) => (custom.functions[name].node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions;
    expect(reserved('token')).toBe(300);
    expect(reserved('introspection')).toBe(FUNCTIONS.introspection.reservedConcurrency);
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
