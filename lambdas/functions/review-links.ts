import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { secretsVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { sesMailerFromEnv } from '../adapters/aws/ses-mailer.js';
import { createReviewLinksHandler } from '../handlers/review-links.js';

/** Lambda entry point of the operators' resend of review links (IAM-authorised routes). */
export const handler = createReviewLinksHandler(
  awsServices('review-links', { stores: dynamoStoresFromEnv, vault: secretsVaultFromEnv, mailer: sesMailerFromEnv }),
);
