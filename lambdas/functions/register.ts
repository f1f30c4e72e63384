import { awsServices } from '../adapters/aws/services.js';
import { createRegisterHandler } from '../handlers/register.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRegisterHandler(awsServices());
