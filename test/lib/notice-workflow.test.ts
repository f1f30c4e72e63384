import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { NOTICE_DEFINITION_PATH } from '../../lib/notice-workflow.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';
import { arnOf, defaultConfig, logicalId, statementsOfRole, synthGatehouse, type Statement } from './stack-fixture.js';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const definitionText = readFileSync(NOTICE_DEFINITION_PATH, 'utf8');
const placeholders = [...new Set([...definitionText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!))];

describe('NoticeWorkflow', () => {
  let stack: GatehouseStack;
  let template: Template;
  let resources: Resources;
  let assemblyDir: string;

  beforeAll(() => {
    const synth = synthGatehouse();
    ({ stack, template } = synth);
    resources = template.toJSON().Resources as Resources;
    assemblyDir = synth.app.synth().directory;
  });

  const machine = () => resources[logicalId(stack.noticeWorkflow.stateMachine)]!.Properties;
  const role = () => logicalId(stack.noticeWorkflow.stateMachine.role);

  it('is a STANDARD state machine deploying the shared ASL file unchanged', () => {
    expect(machine().StateMachineType).toBe('STANDARD');
    const location = machine().DefinitionS3Location as { Key: string };
    expect(readFileSync(join(assemblyDir, `asset.${location.Key}`), 'utf8')).toBe(definitionText);
  });

  it('substitutes the sender address, its one placeholder', () => {
    expect(placeholders).toEqual(['MailFrom']);
    expect(machine().DefinitionSubstitutions).toEqual({ MailFrom: defaultConfig().mailFrom });
  });

  it('sends through SES only, with a retry policy that gives up at once on what SES never accepts', () => {
    const resolved = JSON.parse(definitionText) as {
      States: Record<string, { Type: string; Resource?: string; Retry?: Array<{ ErrorEquals: string[]; MaxAttempts?: number }> }>;
    };
    const tasks = Object.values(resolved.States).filter((s) => s.Type === 'Task');
    expect(tasks.map((t) => t.Resource)).toEqual(['arn:aws:states:::aws-sdk:sesv2:sendEmail']);
    const retry = tasks[0]!.Retry!;
    expect(retry[0]!.MaxAttempts).toBe(0);
    expect(retry[0]!.ErrorEquals).toEqual(expect.arrayContaining(['SesV2.MessageRejectedException', 'SesV2.MailFromDomainNotVerifiedException']));
    // The catch-all comes last (Step Functions requires it) and retries.
    expect(retry.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 8, JitterStrategy: 'FULL' });
  });

  it('logs all events without execution data (contact addresses) to an encrypted log group kept a year under /aws/vendedlogs/states/<stack>-, and traces with X-Ray', () => {
    expect(machine().LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(stack.noticeWorkflow.logGroup) } }],
      IncludeExecutionData: false,
      Level: 'ALL',
    });
    expect(resources[logicalId(stack.noticeWorkflow.logGroup)]!.Properties).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['/aws/vendedlogs/states/Gatehouse-notice-', DEPLOYMENT_SUFFIX]] },
      KmsKeyId: arnOf(stack.logEncryptionKey.key),
      RetentionInDays: 365,
    });
    expect(machine().TracingConfiguration).toEqual({ Enabled: true });
  });

  it('lets its role send email only through the SES identity and from the sender address, and call nothing else but logs and X-Ray', () => {
    const statements = statementsOfRole(template, role()) as Statement[];
    const ses = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('ses:')));
    expect(ses).toEqual([
      {
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':identity/bank.example']],
        },
        Condition: { StringEquals: { 'ses:FromAddress': defaultConfig().mailFrom } },
      },
    ]);
    for (const statement of statements.filter((s) => !ses.includes(s))) {
      expect(statement.Resource).toBe('*');
      for (const action of [statement.Action].flat()) expect(action).toMatch(/^(xray|logs):/);
    }
  });

  it("runs under a role Step Functions may assume only for this account's state machines, with a customer-managed policy", () => {
    const properties = resources[role()]!.Properties;
    expect(properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'states.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': expect.anything() } },
        },
      ],
    });
    expect(properties.Policies).toBeUndefined();
  });
});
