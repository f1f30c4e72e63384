import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SesMailer } from '../../../../lambdas/adapters/aws/ses-mailer.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

const FROM = 'gatehouse@bank.example';
const ses = mockClient(SESv2Client);
const mailer = () => new SesMailer({ from: FROM, client: new SESv2Client(AWS_TEST_CLIENT_CONFIG) });

describe('SesMailer', () => {
  afterEach(() => {
    ses.reset();
  });

  it('sends a plain-text email from the configured sender', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    await mailer().send({ to: ['reviewer@bank.example', 'second@bank.example'], subject: 'Review needed', text: 'Please review.' });

    expect(ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input)).toEqual([
      {
        FromEmailAddress: FROM,
        Destination: { ToAddresses: ['reviewer@bank.example', 'second@bank.example'] },
        Content: {
          Simple: {
            Subject: { Data: 'Review needed', Charset: 'UTF-8' },
            Body: { Text: { Data: 'Please review.', Charset: 'UTF-8' } },
          },
        },
      },
    ]);
  });

  it('adds an HTML part when the email has one', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });

    await mailer().send({ to: ['reviewer@bank.example'], subject: 'Überprüfung', text: 'Bitte prüfen.', html: '<p>Bitte prüfen.</p>' });

    const body = ses.commandCalls(SendEmailCommand)[0]!.args[0].input.Content!.Simple!.Body!;
    expect(body).toEqual({
      Text: { Data: 'Bitte prüfen.', Charset: 'UTF-8' },
      Html: { Data: '<p>Bitte prüfen.</p>', Charset: 'UTF-8' },
    });
  });

  it('propagates a send failure', async () => {
    ses.on(SendEmailCommand).rejects(new Error('MessageRejected'));

    await expect(mailer().send({ to: ['x@bank.example'], subject: 's', text: 't' })).rejects.toThrow('MessageRejected');
  });
});
