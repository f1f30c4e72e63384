import {
  getConsumer,
  updateConsumer,
  listConsumers,
  getRequest,
  listRequests,
  listDue,
  rearm,
  getPolicyRollout,
  savePolicyRollout,
} from '../adapters/aws/dynamo-operations.js';
import { dynamoRegistryFromEnv } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { sfnWorkflowFromEnv } from '../adapters/aws/sfn-workflow.js';
import { clientSecretsFromEnv } from '../adapters/aws/secrets-client-secrets.js';
import { noticeMailerFromEnv } from '../adapters/aws/sfn-notice-mailer.js';
import { createSweepHandler } from '../handlers/sweep.js';

// The sweep also reads the attention index, which only the DynamoDB registry has.
const registry = dynamoRegistryFromEnv({
  getConsumer,
  updateConsumer,
  listConsumers,
  getRequest,
  listRequests,
  listDue,
  rearm,
  getPolicyRollout,
  savePolicyRollout,
})();
const services = awsServices({ registry: () => registry, workflow: sfnWorkflowFromEnv, clientSecrets: clientSecretsFromEnv, mailer: noticeMailerFromEnv });

/** Lambda entry point of the lifecycle sweep (EventBridge schedule). */
export const handler = createSweepHandler(services, registry);
