import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { sesMailerFromEnv } from '../adapters/aws/ses-mailer.js';
import { createReviewTaskHandler } from '../handlers/review-task.js';

/** Lambda entry point for the review state machine's tasks. */
export const handler = createReviewTaskHandler(
  awsServices('review-task', { stores: dynamoStoresFromEnv, vault: secretsVaultFromEnv, mailer: sesMailerFromEnv }),
);
