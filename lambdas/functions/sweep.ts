import { DynamoRegistry } from '../adapters/aws/dynamo-registry.js';
import { awsServices } from '../adapters/aws/services.js';
import { createSweepHandler } from '../handlers/sweep.js';

const services = awsServices();

/** Lambda entry point of the lifecycle sweep (EventBridge schedule). */
export const handler = createSweepHandler(services, services.registry as DynamoRegistry);
