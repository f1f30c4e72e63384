import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll } from 'vitest';

/**
 * Unit test files share their modules (`isolate: false`), and `mockClient(SomeClient)` stubs `send` on the class's
 * prototype. After each file, every class-level stub is removed, so a later file that talks to a real (local) endpoint
 * through the same class is not answered by the previous file's mock.
 */
const MOCKABLE = [DynamoDBDocumentClient, SFNClient, SecretsManagerClient, SESv2Client, SSMClient, LambdaClient];

afterAll(() => {
  for (const client of MOCKABLE) {
    const send = client.prototype.send as { restore?: () => void };
    if (Object.prototype.hasOwnProperty.call(client.prototype, 'send') && typeof send.restore === 'function') send.restore();
  }
});
