import { authorizerConfigFromEnv, createAuthorizerHandler } from '../verifier/authorizer.js';

/** Lambda entry point of the resource-server authorizer: the verifier only, configured from GATEHOUSE_AUTHZ_* at start-up. */
export const handler = createAuthorizerHandler(authorizerConfigFromEnv());
