import { getConsumer, updateConsumer, createReview, getReview, getRequest } from '../adapters/aws/dynamo-operations.js';
import { dynamoRegistryFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { sesMailerFromEnv } from '../adapters/aws/ses-mailer.js';
import { createReviewTaskHandler } from '../handlers/review-task.js';

/** Lambda entry point for the review state machine's tasks. */
export const handler = createReviewTaskHandler(
  awsServices({
    registry: dynamoRegistryFromEnv({ getConsumer, updateConsumer, createReview, getReview, getRequest }),
    vault: secretsVaultFromEnv,
    mailer: sesMailerFromEnv,
  }),
);
