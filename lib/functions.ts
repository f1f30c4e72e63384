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
  | 'mail:send'
  /**
   * Issues a consumer's client secret: secretsmanager:CreateSecret (with its tag), RotateSecret and DeleteSecret on
   * `<prefix>*` secrets, lambda:InvokeFunction on the client-secret rotation function (RotateSecret requires it of the
   * caller), and the client-secret key via Secrets Manager.
   */
  | 'client-secrets:create'
  /** secretsmanager:GetSecretValue on `<prefix>*` secrets and kms:Decrypt via Secrets Manager (RFC 7592 read). */
  | 'client-secrets:read'
  /**
   * Acts on existing client secrets: secretsmanager:RotateSecret (rotate now, with the rotation rules and function already
   * on the secret) and DeleteSecret (with a recovery window) on `<prefix>*` secrets, and lambda:InvokeFunction on the
   * client-secret rotation function (RotateSecret requires it of the caller). No value is read, so no key grant.
   */
  | 'client-secrets:manage'
  /**
   * The client-secret rotation protocol on `<prefix>*` secrets: DescribeSecret, GetSecretValue, PutSecretValue and
   * UpdateSecretVersionStage, with the key via Secrets Manager. One function holds it; Secrets Manager invokes it.
   */
  | 'client-secrets:rotate';

export interface FunctionSpec {
  /** Entry file (relative to the repository root) bundled by esbuild. */
  readonly entry: string;
  readonly capabilities: readonly Capability[];
  readonly memorySize: number;
  readonly timeoutSeconds: number;
}

/** HTTP handlers (wired to API Gateway by the route table) and the handlers invoked by AWS services. */
type FunctionName =
  | HttpHandlerName
  /** A task of the review state machine. */
  | 'review-task'
  /** Secrets Manager's rotation function for every consumer's client secret. */
  | 'client-secret-rotation'
  /** The lifecycle sweep, run on a schedule by EventBridge (LifecycleSweep). */
  | 'sweep';

/** One Lambda function per handler; HTTP ones are wired to API Gateway by the route table, the others are invoked by AWS services. */
export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  register: {
    entry: 'lambdas/functions/register.ts',
    capabilities: ['table:read', 'table:write', 'workflow:start', 'client-secrets:create'],
    memorySize: 512,
    timeoutSeconds: 10,
  },
  'registration-read': { entry: 'lambdas/functions/registration-read.ts', capabilities: ['table:read', 'client-secrets:read'], memorySize: 256, timeoutSeconds: 5 },
  token: { entry: 'lambdas/functions/token.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 512, timeoutSeconds: 5 },
  introspection: { entry: 'lambdas/functions/introspection.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 512, timeoutSeconds: 5 },
  revocation: { entry: 'lambdas/functions/revocation.ts', capabilities: ['table:read', 'table:write', 'signing-key:read'], memorySize: 256, timeoutSeconds: 5 },
  discovery: { entry: 'lambdas/functions/discovery.ts', capabilities: ['signing-key:read'], memorySize: 256, timeoutSeconds: 5 },
  review: { entry: 'lambdas/functions/review.ts', capabilities: ['table:read', 'table:write', 'signing-key:read', 'workflow:callback'], memorySize: 256, timeoutSeconds: 10 },
  'review-task': { entry: 'lambdas/functions/review-task.ts', capabilities: ['table:read', 'table:write', 'signing-key:read', 'mail:send'], memorySize: 256, timeoutSeconds: 30 },
  'client-secret-rotation': {
    entry: 'lambdas/functions/client-secret-rotation.ts',
    capabilities: ['table:read', 'table:write', 'client-secrets:rotate', 'mail:send'],
    memorySize: 256,
    timeoutSeconds: 30,
  },
  admin: {
    entry: 'lambdas/functions/admin.ts',
    capabilities: ['table:read', 'table:write', 'client-secrets:manage', 'mail:send'],
    memorySize: 256,
    timeoutSeconds: 10,
  },
  // Reads only due consumers (the sparse `attention` index) and stops itself before the timeout; the next run continues.
  sweep: {
    entry: 'lambdas/functions/sweep.ts',
    capabilities: ['table:read', 'table:write', 'client-secrets:manage', 'mail:send'],
    memorySize: 512,
    timeoutSeconds: 300,
  },
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
 * it reads and describes the secret, puts the pending key and moves AWSCURRENT to it, and records each completed
 * rotation in the registry table's `SYSTEM#signing-key` audit stream (Query for the stream's head, conditional PutItem).
 */
export const SIGNING_KEY_ROTATION: FunctionSpec = {
  entry: 'lambdas/functions/signing-key-rotation.ts',
  capabilities: ['signing-key:read', 'signing-key:write', 'signing-key:rotate', 'table:read', 'table:write'],
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
