import { SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { NoticeWorkflowMailer, noticeInput } from '../../../../lambdas/adapters/aws/sfn-notice-mailer.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:notices';
const sfn = mockClient(SFNClient);
const mailer = () => new NoticeWorkflowMailer({ stateMachineArn: ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) });

describe('NoticeWorkflowMailer', () => {
  afterEach(() => {
    sfn.reset();
  });

  it('starts one notice execution with the plain-text email as its input', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN}:x`, startDate: new Date() });

    await mailer().send({ to: ['ops@partner.example', 'cto@partner.example'], subject: 'Zugang gesperrt', text: 'Gesperrt: Vorfall 42.' });

    const calls = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.stateMachineArn).toBe(ARN);
    // No name: Step Functions names each execution, so two notices to one consumer never collide.
    expect(calls[0]!.name).toBeUndefined();
    expect(JSON.parse(calls[0]!.input!)).toEqual({
      to: ['ops@partner.example', 'cto@partner.example'],
      subject: 'Zugang gesperrt',
      text: 'Gesperrt: Vorfall 42.',
    });
  });

  it('propagates a failure to start, so the caller logs the notice as not sent', async () => {
    sfn.on(StartExecutionCommand).rejects(new SFNServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: {} }));
    await expect(mailer().send({ to: ['ops@partner.example'], subject: 's', text: 't' })).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('refuses an email with an HTML part instead of sending it without', async () => {
    await expect(mailer().send({ to: ['ops@partner.example'], subject: 's', text: 't', html: '<p>t</p>' })).rejects.toThrow(TypeError);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
    expect(() => noticeInput({ to: ['a@b.example'], subject: 's', text: 't', html: '' })).toThrow(/plain-text notices/);
  });
});
