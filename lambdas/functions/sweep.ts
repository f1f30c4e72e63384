import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { clientSecretInventoryFromEnv } from '../adapters/aws/secrets-client-secret-inventory.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { sesMailerFromEnv } from '../adapters/aws/ses-mailer.js';
import { createSweepHandler } from '../handlers/sweep.js';

/** Lambda entry point of the lifecycle sweep (EventBridge schedule). */
export const handler = createSweepHandler(
  awsServices('sweep', {
    stores: dynamoStoresFromEnv,
    workflow: sfnWorkflowFromEnv,
    clientSecrets: clientSecretsFromEnv,
    mailer: noticeMailerFromEnv,
    linkMailer: sesMailerFromEnv,
    vault: secretsVaultFromEnv,
  }),
  { clientSecretInventory: clientSecretInventoryFromEnv() },
);
