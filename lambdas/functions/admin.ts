import { awsServices } from '../adapters/aws/services.js';
import { createAdminHandler } from '../handlers/admin.js';

/** Lambda entry point of the admin API (IAM-authorised routes under /admin). */
export const handler = createAdminHandler(awsServices());
