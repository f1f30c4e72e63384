import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { publicKeysVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { createRecertificationHandler } from '../handlers/recertification.js';

/** Lambda entry point of the attestation pages: the shared handler over the AWS adapters. */
export const handler = createRecertificationHandler(
  awsServices('recertification', {
    stores: dynamoStoresFromEnv,
    vault: publicKeysVaultFromEnv,
    workflow: sfnWorkflowFromEnv,
    clientSecrets: clientSecretsFromEnv,
    mailer: noticeMailerFromEnv,
  }),
);
