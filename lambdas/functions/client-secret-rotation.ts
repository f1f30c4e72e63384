import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { createClientSecretRotationHandler } from '../handlers/client-secret-rotation.js';

/** Lambda entry point of the client-secret rotation function (Secrets Manager invokes it for every consumer's secret). */
export const handler = createClientSecretRotationHandler(
  awsServices('client-secret-rotation', { stores: dynamoStoresFromEnv, clientSecrets: clientSecretsFromEnv, mailer: noticeMailerFromEnv }),
);
