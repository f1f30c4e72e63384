import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { createAdminHandler } from '../handlers/admin.js';

/** Lambda entry point of the admin API (IAM-authorised routes under /admin). */
export const handler = createAdminHandler(
  awsServices('admin', { stores: dynamoStoresFromEnv, workflow: sfnWorkflowFromEnv, clientSecrets: clientSecretsFromEnv, mailer: noticeMailerFromEnv }),
);
