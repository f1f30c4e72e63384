import type { HttpHandlerName } from './routes.js';

/** What a function may touch; the stack turns each into a least-privilege grant. */
export type Capability =
  | 'table:read'
  | 'table:write'
  | 'signing-key:read'
  | 'signing-key:write'
  /** secretsmanager:UpdateSecretVersionStage on the signing-key secret: only the rotation function SigningKey creates. */
  | 'signing-key:rotate'
  | 'workflow:start'
  /** states:SendTaskSuccess / SendTaskFailure on the review state machine. */
  | 'workflow:callback'
  /** ses:SendEmail from the configured sender identity. */
  | 'mail:send';

export interface FunctionSpec {
  /** Entry file (relative to the repository root) bundled by esbuild. */
  readonly entry: string;
  readonly capabilities: readonly Capability[];
  readonly memorySize: number;
  readonly timeoutSeconds: number;
}

type FunctionName = HttpHandlerName | 'review-task';

/** One Lambda function per handler; HTTP ones are wired to API Gateway by the route table. */
export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  register: { entry: 'lambdas/functions/register.ts', capabilities: ['table:read', 'table:write', 'workflow:start'], memorySize: 512, timeoutSeconds: 10 },
  'registration-read': { entry: 'lambdas/functions/registration-read.ts', capabilities: ['table:read'], memorySize: 256, timeoutSeconds: 5 },
  token: { entry: 'lambdas/functions/token.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 512, timeoutSeconds: 5 },
  introspection: { entry: 'lambdas/functions/introspection.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 512, timeoutSeconds: 5 },
  revocation: { entry: 'lambdas/functions/revocation.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 256, timeoutSeconds: 5 },
  discovery: { entry: 'lambdas/functions/discovery.ts', capabilities: ['signing-key:read'], memorySize: 256, timeoutSeconds: 5 },
  review: { entry: 'lambdas/functions/review.ts', capabilities: ['table:read', 'table:write', 'signing-key:read', 'workflow:callback'], memorySize: 256, timeoutSeconds: 10 },
  'review-task': { entry: 'lambdas/functions/review-task.ts', capabilities: ['table:read', 'table:write', 'signing-key:read', 'mail:send'], memorySize: 256, timeoutSeconds: 30 },
};

/** The custom resource that puts the first ES256 key into the signing-key secret. */
export const SIGNING_KEY_INIT: FunctionSpec = {
  entry: 'lambdas/functions/signing-key-init.ts',
  capabilities: ['signing-key:read', 'signing-key:write'],
  memorySize: 256,
  timeoutSeconds: 30,
};

/**
 * Secrets Manager's rotation function for the signing-key secret (createSecret / setSecret / testSecret / finishSecret):
 * it reads and describes the secret, puts the pending key and moves AWSCURRENT to it.
 */
export const SIGNING_KEY_ROTATION: FunctionSpec = {
  entry: 'lambdas/functions/signing-key-rotation.ts',
  capabilities: ['signing-key:read', 'signing-key:write', 'signing-key:rotate'],
  memorySize: 256,
  timeoutSeconds: 30,
};

/**
 * The resource-server authorizer (GatehouseAuthorizer): it only verifies tokens against the published JWKS, so it touches
 * no Gatehouse resource. The timeout leaves room for jose's 5-second JWKS fetch on a cold start.
 */
export const AUTHORIZER: FunctionSpec = {
  entry: 'lambdas/functions/authorizer.ts',
  capabilities: [],
  memorySize: 256,
  timeoutSeconds: 10,
};
