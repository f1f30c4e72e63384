import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/adapters/aws/env.js';
import {
  CLIENT_SECRET_CREATE_ACTIONS,
  CLIENT_SECRET_DELETE_ACTIONS,
  CLIENT_SECRET_LIST_ACTIONS,
  CLIENT_SECRET_MANAGE_ACTIONS,
  CLIENT_SECRET_READ_ACTIONS,
  CLIENT_SECRET_ROTATE_ACTIONS,
  ClientSecrets,
  type ClientSecretsProps,
} from '../../lib/client-secrets.js';
import { FUNCTIONS } from '../../lambdas/contracts/functions.js';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import type { HandlerFunctionName } from '../../lib/handler-functions.js';
import { resourceWildcardFinding } from '../../lib/nag.js';
import { ROUTES } from '../../lambdas/contracts/routes.js';
import { CLIENT_SECRET_CAPABILITIES } from '../../lib/handler-functions.js';
import { arnOf, logicalId, statementsOfRole, synthGatehouse, testApp, type Statement } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
type KeyStatement = { Effect: string; Action: string | string[]; Principal?: { AWS?: unknown }; Condition?: unknown };

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>*` as the template spells it. */
const prefixArn = (prefix: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:secret:${prefix}*`]],
});
const VIA_SECRETS_MANAGER = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } };
const names = Object.keys(FUNCTIONS) as HandlerFunctionName[];

/** The logical ids of the roles a key policy statement names. */
function principalRoles(statement: KeyStatement): string[] {
  return [statement.Principal?.AWS].flat().map((p) => (p as { 'Fn::GetAtt'?: [string] })['Fn::GetAtt']?.[0] ?? JSON.stringify(p));
}

/** A ClientSecrets alone in a stack, with a stand-in rotation function. */
function clientSecretsAlone(
  props: ClientSecretsProps = {},
  stackName = 'Alone',
): { app: App; stack: Stack; construct: ClientSecrets; rotation: lambda.Function } {
  const app = testApp();
  const stack = new Stack(app, stackName);
  const construct = new ClientSecrets(stack, 'ClientSecrets', props);
  const rotation = new lambda.Function(stack, 'Rotation', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => undefined;'),
  });
  return { app, stack, construct, rotation };
}

describe('ClientSecrets in the Gatehouse stack', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;
  let keyPolicy: KeyStatement[];

  beforeAll(() => {
    ({ stack, template } = synthGatehouse());
    resources = template.toJSON().Resources as Resources;
    keyPolicy = (resources[logicalId(stack.clientSecrets.encryptionKey)]!.Properties.KeyPolicy as { Statement: KeyStatement[] }).Statement;
  });

  const roleId = (name: HandlerFunctionName) => logicalId(stack.handlers.constructsByName[name].role);
  const env = (name: HandlerFunctionName) =>
    (resources[logicalId(stack.handlers.functions[name])]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const secretStatements = (name: HandlerFunctionName): Statement[] =>
    statementsOfRole(template, roleId(name)).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
  const lambdaStatements = (name: HandlerFunctionName): Statement[] =>
    statementsOfRole(template, roleId(name)).filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')));
  const keyStatementsFor = (name: HandlerFunctionName) => keyPolicy.filter((s) => principalRoles(s).includes(roleId(name)));
  const rotationFunction = () => stack.handlers.functions['client-secret-rotation'];

  it('names client secrets gatehouse/<stack name>/clients/<client_id> and scopes every grant to that prefix', () => {
    expect(stack.clientSecrets.prefix).toBe('gatehouse/Gatehouse/clients/');
    expect(stack.resolve(stack.clientSecrets.secretArnPattern)).toEqual(prefixArn('gatehouse/Gatehouse/clients/'));
  });

  it('creates no secret in the template: client secrets are created at registration (so AwsSolutions-SMG4 has nothing to check)', () => {
    // The only secrets in the template are the token-signing key set and its public mirror.
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret')).sort()).toEqual(
      [logicalId(stack.signingKey.secret), logicalId(stack.signingKey.publicSecret)].sort(),
    );
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
  });

  it('encrypts them with their own customer-managed key, rotation enabled and retained', () => {
    const key = resources[logicalId(stack.clientSecrets.encryptionKey)]!;
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(key.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(logicalId(stack.clientSecrets.encryptionKey)).not.toBe(logicalId(stack.signingKey.encryptionKey));
  });

  it('builds the rotation function like every handler, from its FUNCTIONS entry, and wires it to no API route', () => {
    expect(resources[logicalId(rotationFunction())]!.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
    });
    expect(ROUTES.map((r) => r.handler)).not.toContain('client-secret-rotation');
    const apiPermissions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties.FunctionName) === JSON.stringify(arnOf(rotationFunction())),
    );
    expect(apiPermissions.map((p) => p.Properties.Principal)).toEqual(['secretsmanager.amazonaws.com']);
  });

  it('lets the rotation function only describe, read, put and restage <prefix>* secrets', () => {
    const statements = secretStatements('client-secret-rotation');
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual([...CLIENT_SECRET_ROTATE_ACTIONS].sort());
    for (const s of statements) {
      expect(s.Resource).toEqual(prefixArn('gatehouse/Gatehouse/clients/'));
      expect(s.Condition).toBeUndefined();
    }
    // Not the signing secret, and no way to create, delete or re-schedule a secret or invoke a function.
    expect(JSON.stringify(statementsOfRole(template, roleId('client-secret-rotation')))).not.toContain(logicalId(stack.signingKey.secret));
    expect(lambdaStatements('client-secret-rotation')).toEqual([]);
  });

  it('lets the register function create, tag, schedule rotation of and delete <prefix>* secrets, and invoke exactly the rotation function', () => {
    const statements = secretStatements('register');
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual([...CLIENT_SECRET_CREATE_ACTIONS].sort());
    for (const s of statements) expect(s.Resource).toEqual(prefixArn('gatehouse/Gatehouse/clients/'));
    // RotateSecret requires lambda:InvokeFunction of the caller: on the rotation function itself, not its versions (`:*`).
    expect(lambdaStatements('register')).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf(rotationFunction()) }]);
  });

  it("never lets the public register function rotate, retag or delete a consumer's issued secret: only one it is issuing", () => {
    const byAction = Object.fromEntries(secretStatements('register').map((s) => [s.Action as string, (s as Statement & { Condition?: unknown }).Condition]));
    const notYetIssued = { Null: { 'secretsmanager:resource/AllowRotationLambdaArn': 'true' } };
    const onlyTheClientIdTag = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['gatehouse:client-id'] } };
    expect(byAction).toEqual({
      'secretsmanager:CreateSecret': onlyTheClientIdTag,
      'secretsmanager:TagResource': { ...onlyTheClientIdTag, ...notYetIssued },
      'secretsmanager:RotateSecret': {
        ...notYetIssued,
        Bool: { 'secretsmanager:RotateImmediately': 'false' },
        StringEquals: { 'secretsmanager:RotationLambdaARN': arnOf(rotationFunction()) },
      },
      'secretsmanager:DeleteSecret': { ...notYetIssued, Bool: { 'secretsmanager:ForceDeleteWithoutRecovery': 'true' } },
    });
  });

  it('lets the admin function only rotate now and delete <prefix>* secrets, and invoke exactly the rotation function', () => {
    expect(FUNCTIONS.admin.capabilities).toContain('client-secrets:manage');
    expect(FUNCTIONS.admin.capabilities).not.toContain('client-secrets:create');
    expect(secretStatements('admin')).toEqual([
      { Effect: 'Allow', Action: [...CLIENT_SECRET_MANAGE_ACTIONS].sort(), Resource: prefixArn('gatehouse/Gatehouse/clients/') },
    ]);
    // No secret is created, read or written: no CreateSecret, GetSecretValue, PutSecretValue or DescribeSecret.
    const actions = statementsOfRole(template, roleId('admin')).flatMap((s) => [s.Action].flat());
    for (const forbidden of [
      'secretsmanager:CreateSecret',
      'secretsmanager:TagResource',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:DescribeSecret',
      'secretsmanager:UpdateSecretVersionStage',
    ]) {
      expect(actions, forbidden).not.toContain(forbidden);
    }
    // RotateSecret invokes the rotation function with the caller's permissions: that function itself, not its versions.
    expect(lambdaStatements('admin')).toEqual([{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf(rotationFunction()) }]);
    // Neither call touches a secret value, so the client-secret key's policy does not name the role.
    expect(keyStatementsFor('admin')).toEqual([]);
  });

  it('gives the review-task function no access to client secrets (an exception never issues one)', () => {
    expect(FUNCTIONS['review-task'].capabilities.filter((c) => c.startsWith('client-secrets:'))).toEqual([]);
    expect(secretStatements('review-task').map((s) => s.Resource)).toEqual([{ Ref: logicalId(stack.signingKey.secret) }]);
    expect(lambdaStatements('review-task')).toEqual([]);
  });

  it('lets the sweep function only list secrets and schedule the deletion of <prefix>* secrets: no rotation, no invocation, no key', () => {
    expect(FUNCTIONS.sweep.capabilities.filter((c) => c.startsWith('client-secrets:'))).toEqual(['client-secrets:delete', 'client-secrets:list']);
    // Besides the signing key it signs attestation links with.
    const statements = secretStatements('sweep').filter((s) => JSON.stringify(s.Resource) !== JSON.stringify({ Ref: logicalId(stack.signingKey.secret) }));
    expect(statements.filter((s) => s.Resource !== '*')).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:DeleteSecret', Resource: prefixArn('gatehouse/Gatehouse/clients/') },
    ]);
    // ListSecrets takes no resource ("*", in the statement CDK merges with X-Ray's); it returns metadata only.
    const onAnything = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(onAnything.filter((a) => a.startsWith('secretsmanager:'))).toEqual(['secretsmanager:ListSecrets']);
    expect(CLIENT_SECRET_DELETE_ACTIONS).toEqual(['secretsmanager:DeleteSecret']);
    expect(lambdaStatements('sweep')).toEqual([]);
    expect(keyStatementsFor('sweep')).toEqual([]);
    expect(env('sweep')).not.toHaveProperty(ENV.clientSecretRotationArn);
  });

  it("lets the registration-read function only read <prefix>* secrets' values", () => {
    expect(secretStatements('registration-read')).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: prefixArn('gatehouse/Gatehouse/clients/'),
        Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      },
    ]);
    expect(CLIENT_SECRET_READ_ACTIONS).toEqual(['secretsmanager:GetSecretValue']);
    expect(lambdaStatements('registration-read')).toEqual([]);
  });

  it('gives the token function (and every function without a client-secrets capability) no client-secret access at all', () => {
    const without = names.filter((n) => !CLIENT_SECRET_CAPABILITIES.some((c) => FUNCTIONS[n].capabilities.includes(c)));
    expect(without).toContain('token');
    const pattern = JSON.stringify(prefixArn('gatehouse/Gatehouse/clients/'));
    for (const name of without) {
      expect(JSON.stringify(statementsOfRole(template, roleId(name))), name).not.toContain(pattern);
      expect(lambdaStatements(name), name).toEqual([]);
      expect(keyStatementsFor(name), name).toEqual([]);
      expect(env(name), name).not.toHaveProperty(ENV.clientSecretPrefix);
      expect(env(name), name).not.toHaveProperty(ENV.clientSecretKeyId);
      expect(env(name), name).not.toHaveProperty(ENV.clientSecretRotationArn);
    }
    // token reads and writes secrets nowhere but the signing secret: it verifies client secrets against hashes in the table.
    expect(secretStatements('token').map((s) => s.Resource)).toEqual([{ Ref: logicalId(stack.signingKey.secret) }]);
  });

  it('lets the key be used only through Secrets Manager: decrypt and generate data keys by the creators and rotation, decrypt only by registration-read', () => {
    const granted = keyPolicy.filter((s) => !principalRoles(s).some((p) => p.includes(':root')));
    for (const s of granted) expect(s.Condition).toEqual(VIA_SECRETS_MANAGER);
    const actionsOf = (name: HandlerFunctionName) =>
      keyStatementsFor(name)
        .flatMap((s) => [s.Action].flat())
        .sort();
    const creators = ['register', 'registration-manage'] as const;
    for (const name of [...creators, 'client-secret-rotation'] as const) expect(actionsOf(name), name).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(actionsOf('registration-read')).toEqual(['kms:Decrypt']);
    const principals = new Set(granted.flatMap(principalRoles));
    expect([...principals].sort()).toEqual(([...creators, 'registration-read', 'client-secret-rotation'] as const).map((n) => roleId(n)).sort());
    // The signing key's policy names none of them.
    const signingKeyPolicy = JSON.stringify(resources[logicalId(stack.signingKey.encryptionKey)]!.Properties.KeyPolicy);
    for (const name of ['register', 'registration-read', 'client-secret-rotation'] as const) expect(signingKeyPolicy).not.toContain(roleId(name));
  });

  it('lets Secrets Manager invoke the rotation function for <prefix>* secrets of this account only', () => {
    expect(logicalId(stack.clientSecrets.invokePermission)).toBeDefined();
    expect(resources[logicalId(stack.clientSecrets.invokePermission)]!.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: arnOf(rotationFunction()),
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: prefixArn('gatehouse/Gatehouse/clients/'),
    });
    expect(stack.clientSecrets.rotationFunction).toBe(rotationFunction());
  });

  it('tells the functions the prefix and the key, and the functions that call RotateSecret the rotation function', () => {
    for (const name of ['register', 'registration-read', 'client-secret-rotation', 'admin', 'sweep'] as const) {
      expect(env(name), name).toMatchObject({
        [ENV.clientSecretPrefix]: 'gatehouse/Gatehouse/clients/',
        [ENV.clientSecretKeyId]: arnOf(stack.clientSecrets.encryptionKey),
      });
    }
    for (const name of ['register', 'admin'] as const) expect(env(name)[ENV.clientSecretRotationArn], name).toEqual(arnOf(rotationFunction()));
    expect(env('review-task')).not.toHaveProperty(ENV.clientSecretPrefix);
    expect(env('registration-read')).not.toHaveProperty(ENV.clientSecretRotationArn);
    expect(env('client-secret-rotation')).not.toHaveProperty(ENV.clientSecretRotationArn);
  });

  it('raises an alarm when a rotation step fails: one Errors datapoint of the rotation function in 5 minutes, missing data not breaching', () => {
    expect(resources[logicalId(stack.clientSecrets.rotationAlarm)]!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(rotationFunction()) } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(resources[logicalId(stack.clientSecrets.rotationAlarm)]!.Properties.AlarmActions).toEqual([{ Ref: logicalId(stack.alarmTopic) }]);
  });

  it('outputs the prefix and the rotation alarm name', () => {
    template.hasOutput('ClientSecretPrefix', { Value: 'gatehouse/Gatehouse/clients/' });
    template.hasOutput('ClientSecretRotationAlarmName', { Value: { Ref: logicalId(stack.clientSecrets.rotationAlarm) } });
  });

  it('acknowledges the <prefix>* wildcard on the client-secret roles only, and leaves no cdk-nag finding', () => {
    const finding = `AwsSolutions-IAM5[${resourceWildcardFinding(stack, stack.clientSecrets.secretArnPattern)}]`;
    expect(finding).toBe(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:gatehouse/Gatehouse/clients/*]',
    );
    const acknowledgedOn = stack.node
      .findAll()
      .filter((c) => c.node.metadata.some((m) => Object.keys(m.data as object).some((id) => id.endsWith(finding))))
      .map((c) => c.node.path)
      .sort();
    expect(acknowledgedOn).toEqual([
      'Gatehouse/Handlers/Admin/Role',
      'Gatehouse/Handlers/ClientSecretRotation/Role',
      'Gatehouse/Handlers/Recertification/Role',
      'Gatehouse/Handlers/Register/Role',
      'Gatehouse/Handlers/RegistrationManage/Role',
      'Gatehouse/Handlers/RegistrationRead/Role',
      'Gatehouse/Handlers/Sweep/Role',
    ]);
    expect(new AwsSolutionsChecks(stack.node.root, { verbose: true }).validateScope(stack.handlers).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('ClientSecrets on its own', () => {
  it('defaults the prefix to gatehouse/<stack name>/clients/, so two stacks in one account never share secrets', () => {
    expect(clientSecretsAlone({}, 'Staging').construct.prefix).toBe('gatehouse/Staging/clients/');
    expect(clientSecretsAlone({}, 'Production').construct.prefix).toBe('gatehouse/Production/clients/');
  });

  it('takes a prefix, and scopes the grants and the invoke permission to it', () => {
    const { stack, construct, rotation } = clientSecretsAlone({ prefix: 'bank/api-clients/' });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantRead(role);
    construct.useRotationFunction(rotation);
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, logicalId(role))).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: prefixArn('bank/api-clients/'),
        Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'secretsmanager.amazonaws.com', SourceArn: prefixArn('bank/api-clients/') });
  });

  it('grantManage allows rotating now and deleting <prefix>* secrets and invoking the rotation function, without the key', () => {
    const { stack, construct, rotation } = clientSecretsAlone({ prefix: 'bank/api-clients/' });
    construct.useRotationFunction(rotation);
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantManage(role, rotation);
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, logicalId(role))).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DeleteSecret', 'secretsmanager:RotateSecret'], Resource: prefixArn('bank/api-clients/') },
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arnOf(rotation) },
    ]);
    const keyPolicy = JSON.stringify(template.toJSON().Resources[logicalId(construct.encryptionKey)].Properties.KeyPolicy);
    expect(keyPolicy).not.toContain(logicalId(role));
  });

  it('grantDelete allows only scheduling the deletion of <prefix>* secrets: no rotation, no invocation, no key', () => {
    const { stack, construct, rotation } = clientSecretsAlone({ prefix: 'bank/api-clients/' });
    construct.useRotationFunction(rotation);
    const role = new iam.Role(stack, 'Sweeper', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantDelete(role);
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, logicalId(role))).toEqual([
      { Effect: 'Allow', Action: 'secretsmanager:DeleteSecret', Resource: prefixArn('bank/api-clients/') },
    ]);
    expect(JSON.stringify(template.toJSON().Resources[logicalId(construct.encryptionKey)].Properties.KeyPolicy)).not.toContain(logicalId(role));
  });

  it('grantList allows only ListSecrets, on "*" (it takes no resource), with no key, and acknowledges the wildcard with a reason', () => {
    const { stack, construct, rotation } = clientSecretsAlone({ prefix: 'bank/api-clients/' });
    construct.useRotationFunction(rotation);
    const role = new iam.Role(stack, 'Lister', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantList(role);
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, logicalId(role))).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }]);
    expect(CLIENT_SECRET_LIST_ACTIONS).toEqual(['secretsmanager:ListSecrets']);
    expect(JSON.stringify(template.toJSON().Resources[logicalId(construct.encryptionKey)].Properties.KeyPolicy)).not.toContain(logicalId(role));
    const acknowledged = new Map(
      role.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => [id.replace(/^Annotation::/i, ''), reason] as const)),
    );
    expect(acknowledged.get('AwsSolutions-IAM5[Resource::*]')).toMatch(/ListSecrets supports no resource-level permission/);
  });

  it.each([
    ['without a trailing slash', 'gatehouse/clients'],
    ['with an IAM wildcard', 'gatehouse/*/'],
    ['starting with a slash', '/gatehouse/clients/'],
    ['with a space', 'gatehouse/my clients/'],
    ['empty', ''],
  ])('refuses a prefix %s', (_what, prefix) => {
    expect(() => clientSecretsAlone({ prefix })).toThrow(
      /ClientSecrets: prefix .* must use only A-Z a-z 0-9 \/ _ \+ = \. @ -, must not start with \/ and must end with \//,
    );
  });

  it('uses a given key instead of creating one', () => {
    const app = testApp();
    const stack = new Stack(app, 'GivenKey');
    const key = new kms.Key(stack, 'Mine', { enableKeyRotation: true });
    const construct = new ClientSecrets(stack, 'ClientSecrets', { encryptionKey: key });
    expect(construct.encryptionKey).toBe(key);
    expect(construct.node.tryFindChild('Key')).toBeUndefined();
  });

  it('notifies the alarm topic on alarm and recovery', () => {
    const app = testApp();
    const stack = new Stack(app, 'WithTopic');
    const topic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    const construct = new ClientSecrets(stack, 'ClientSecrets', { alarmTopic: topic });
    construct.useRotationFunction(
      new lambda.Function(stack, 'Rotation', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') }),
    );
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      AlarmActions: [{ Ref: logicalId(topic) }],
      OKActions: [{ Ref: logicalId(topic) }],
    });
  });

  it('has one rotation function: refuses a second, and fails synthesis without one', () => {
    const { construct, rotation, stack } = clientSecretsAlone();
    expect(() => construct.rotationAlarm).toThrow(/no rotation function yet; call useRotationFunction\(\) first/);
    expect(() => Template.fromStack(stack)).toThrow(/ClientSecrets: useRotationFunction\(\) was never called/);
    construct.useRotationFunction(rotation);
    expect(() => construct.useRotationFunction(rotation)).toThrow(/the rotation function is already Alone\/Rotation/);
  });

  it('acknowledges exactly the finding cdk-nag reports for <prefix>*: a grant is clean, the same statement without it is not', () => {
    const { app, stack, construct, rotation } = clientSecretsAlone();
    construct.useRotationFunction(rotation);
    const granted = new iam.Role(stack, 'Granted', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantRotate(granted);
    construct.grantCreate(granted, rotation);
    construct.grantManage(granted, rotation);
    const bare = new iam.Role(stack, 'Bare', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    bare.addToPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [construct.secretArnPattern] }));
    // (The stand-in rotation function brings its own L1/IAM4 findings; only the wildcard findings matter here.)
    const violations = new AwsSolutionsChecks(app, { verbose: true }).validateScope(stack).violations.filter((v) => v.ruleName.startsWith('AwsSolutions-IAM5'));
    expect(violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)])).toEqual([
      [`AwsSolutions-IAM5[${resourceWildcardFinding(stack, construct.secretArnPattern)}]`, ['Alone/Bare/DefaultPolicy/Resource']],
    ]);
  });
});
