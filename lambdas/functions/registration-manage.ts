import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { httpsKeySets } from '../adapters/net/https-key-sets.js';
import { createRegistrationManageHandler } from '../handlers/registration-manage.js';

/** Lambda entry point of PUT and DELETE /register/{client_id} (RFC 7592 update and delete). */
export const handler = createRegistrationManageHandler(
  awsServices('registration-manage', {
    stores: dynamoStoresFromEnv,
    workflow: sfnWorkflowFromEnv,
    clientSecrets: clientSecretsFromEnv,
    mailer: noticeMailerFromEnv,
  }),
  { remoteKeySets: httpsKeySets() },
);
