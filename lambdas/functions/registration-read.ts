import { awsServices } from '../adapters/aws/services.js';
import { createRegistrationReadHandler } from '../handlers/registration-read.js';

/** Lambda entry point: the shared handler over the AWS adapters. */
export const handler = createRegistrationReadHandler(awsServices());
