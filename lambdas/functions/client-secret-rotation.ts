import { awsServices } from '../adapters/aws/services.js';
import { createClientSecretRotationHandler } from '../handlers/client-secret-rotation.js';

/** Lambda entry point of the client-secret rotation function (Secrets Manager invokes it for every consumer's secret). */
export const handler = createClientSecretRotationHandler(awsServices());
