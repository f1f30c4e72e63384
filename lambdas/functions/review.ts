import { dynamoStoresFromEnv } from '../adapters/aws/dynamo-registry.js';
import { publicKeysVaultFromEnv } from '../adapters/aws/secrets-vault.js';
import { awsServices } from '../adapters/aws/services.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { createReviewHandler } from '../handlers/review.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createReviewHandler(awsServices('review', { stores: dynamoStoresFromEnv, vault: publicKeysVaultFromEnv, workflow: sfnWorkflowFromEnv }));
