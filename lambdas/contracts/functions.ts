import type { RegistryOperationName } from '../adapters/aws/registry-access.js';
import type { HttpHandlerName } from './routes.js';

/** What a function may touch; the stack turns each into a least-privilege grant. */
export type Capability =
  | 'table:read'
  | 'table:write'
  /**
   * The signing-key audit stream only: dynamodb:Query and dynamodb:PutItem on the registry table (not its indexes), on
   * items whose partition key is `SYSTEM#signing-key` (dynamodb:LeadingKeys), with the table key for those calls.
   */
  | 'table:append-system-audit'
  /**
   * dynamodb:Query on the registry table's `software` index only (software_id, client id and status are all it holds),
   * to count the live consumers of one software_id at registration.
   */
  | 'table:count-software-consumers'
  | 'signing-key:read'
  | 'signing-key:write'
  /** secretsmanager:UpdateSecretVersionStage on the signing-key secret: only the rotation function SigningKey creates. */
  | 'signing-key:rotate'
  /** states:StartExecution on the review state machine (and its ARN in the environment). */
  | 'workflow:start'
  /** states:SendTaskSuccess / SendTaskFailure on the review state machine. */
  | 'workflow:callback'
  /**
   * ses:SendEmail from the configured sender identity. Only review-task holds it: its reviewer emails carry signed review
   * links, which must not sit in an execution history, and it runs as a task of the review workflow, whose Retry already
   * covers a failed send.
   */
  | 'mail:send'
  /**
   * Lifecycle notices to a consumer's contacts: states:StartExecution on the consumer-notice state machine (and its ARN in
   * the environment), which sends the plain-text notice through SES and retries it (statemachines/consumer-notice.asl.json).
   * The function holds no SES permission and carries no SES client.
   */
  | 'notice:send'
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
   * Schedules existing client secrets for deletion: secretsmanager:DeleteSecret (with a recovery window) on `<prefix>*`
   * secrets and nothing else (no rotation, no value, no key).
   */
  | 'client-secrets:delete'
  /**
   * The client-secret rotation protocol on `<prefix>*` secrets: DescribeSecret, GetSecretValue, PutSecretValue and
   * UpdateSecretVersionStage, with the key via Secrets Manager. One function holds it; Secrets Manager invokes it.
   */
  | 'client-secrets:rotate';

export interface FunctionSpec {
  /** Entry file (relative to the repository root) bundled by esbuild. */
  readonly entry: string;
  readonly capabilities: readonly Capability[];
  /**
   * The registry operations its handler calls (lambdas/adapters/aws/dynamo-operations.ts), exactly those its entry gives
   * `dynamoRegistryFromEnv`. The role is allowed the DynamoDB actions of these operations and no others
   * (REGISTRY_OPERATION_ACCESS), within what `table:read` and `table:write` permit: the token function, say, may get,
   * put and update items but never query, scan or delete. Without a list, `table:read` and `table:write` grant CDK's
   * grantReadData and grantWriteData.
   */
  readonly registry?: readonly RegistryOperationName[];
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /**
   * Concurrent executions reserved for (and capping) the function: a flood on one route cannot starve the others, and no
   * function can exhaust the account's concurrency (cdk-nag NIST.800.53.R5-LambdaConcurrency). Every function of the
   * Gatehouse stack has one when its `reservedConcurrency` context value is on (off by default); the account must then keep 100 unreserved executions on top of the sum (the stack's ReservedConcurrency output).
   * @default - none (the function shares the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /**
   * Who invokes the function, which decides what happens to a failed invocation: `api` (API Gateway, synchronous: the
   * caller gets the error), `state-machine` (Step Functions, synchronous: the task's Retry/Catch handle it),
   * `secrets-manager` (rotation steps, which Secrets Manager retries and records on the secret), `custom-resource`
   * (CloudFormation via the provider framework, which reports the failure to the stack), `resource-server-api` (another
   * stack's API Gateway, as a REQUEST authorizer: synchronous) or `schedule` (EventBridge, asynchronous: the function
   * needs a dead-letter queue, set by LifecycleSweep).
   */
  readonly invokedBy: 'api' | 'state-machine' | 'secrets-manager' | 'custom-resource' | 'schedule' | 'resource-server-api';
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
  // Registrations are rare (POST /register is throttled to a few per second); 10 absorbs a burst of slow policy checks.
  register: {
    entry: 'lambdas/functions/register.ts',
    // The anonymous registration quota (lambdas/adapters/aws/dynamo-registration-quota.ts) is one conditional UpdateItem
    // on the table, an action updateConsumer already needs.
    capabilities: ['table:read', 'table:write', 'table:count-software-consumers', 'workflow:start', 'client-secrets:create'],
    registry: ['createConsumer', 'getConsumer', 'updateConsumer', 'getIdempotency'],
    memorySize: 512,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  'registration-read': {
    entry: 'lambdas/functions/registration-read.ts',
    // table:write: a read that hands out the client secret replaces the registration access token.
    capabilities: ['table:read', 'table:write', 'client-secrets:read'],
    registry: ['getConsumer', 'updateConsumer'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  // The hot path; GatehouseStackProps.tokenReservedConcurrency (context tokenReservedConcurrency) overrides it.
  token: {
    entry: 'lambdas/functions/token.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read'],
    registry: ['getConsumer', 'recordScopes', 'recordUse', 'claimOnce'],
    memorySize: 512,
    timeoutSeconds: 5,
    reservedConcurrency: 100,
    invokedBy: 'api',
  },
  introspection: {
    entry: 'lambdas/functions/introspection.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read'],
    registry: ['getConsumer', 'claimOnce', 'hasMarker'],
    memorySize: 512,
    timeoutSeconds: 5,
    reservedConcurrency: 50,
    invokedBy: 'api',
  },
  revocation: {
    entry: 'lambdas/functions/revocation.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read'],
    registry: ['getConsumer', 'claimOnce'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 20,
    invokedBy: 'api',
  },
  // JWKS and metadata: resource servers and clients cache them (Cache-Control), so calls are few and fast.
  discovery: {
    entry: 'lambdas/functions/discovery.ts',
    capabilities: ['signing-key:read'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 20,
    invokedBy: 'api',
  },
  review: {
    entry: 'lambdas/functions/review.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read', 'workflow:callback'],
    registry: ['getConsumer', 'getReview', 'decideReview', 'markReviewDelivered', 'getRequest'],
    memorySize: 256,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  'review-task': {
    entry: 'lambdas/functions/review-task.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read', 'mail:send'],
    registry: ['getConsumer', 'updateConsumer', 'createReview', 'getReview', 'getRequest'],
    memorySize: 256,
    timeoutSeconds: 30,
    reservedConcurrency: 10,
    invokedBy: 'state-machine',
  },
  'client-secret-rotation': {
    entry: 'lambdas/functions/client-secret-rotation.ts',
    capabilities: ['table:read', 'table:write', 'client-secrets:rotate', 'notice:send'],
    registry: ['getConsumer', 'updateConsumer'],
    memorySize: 256,
    timeoutSeconds: 30,
    reservedConcurrency: 5,
    invokedBy: 'secrets-manager',
  },
  // Starts review workflows (exceptions, reinstatement), rotates a consumer's secret on request or deletes it with the
  // consumer (client-secrets:manage), and notifies the contacts of a consumer it suspends or terminates (notice:send).
  admin: {
    entry: 'lambdas/functions/admin.ts',
    capabilities: ['table:read', 'table:write', 'workflow:start', 'client-secrets:manage', 'notice:send'],
    registry: ['getConsumer', 'updateConsumer', 'listAudit', 'listConsumers', 'getRequest', 'listRequests', 'listAllRequests'],
    memorySize: 256,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  // Reads only due consumers (the sparse `attention` index) and stops itself before the timeout; the next run continues.
  // It only ever deletes client secrets (of revoked consumers), hence client-secrets:delete and not :manage.
  // workflow:start: the sweep restarts the review workflow of a request registration could neither start nor close.
  sweep: {
    entry: 'lambdas/functions/sweep.ts',
    capabilities: ['table:read', 'table:write', 'client-secrets:delete', 'notice:send', 'workflow:start'],
    registry: ['getConsumer', 'updateConsumer', 'listConsumers', 'getRequest', 'listRequests', 'listDue', 'rearm', 'getPolicyRollout', 'savePolicyRollout'],
    memorySize: 512,
    timeoutSeconds: 300,
    reservedConcurrency: 2,
    invokedBy: 'schedule',
  },
};

/** The custom resource that puts the first ES256 key into the signing-key secret. */
export const SIGNING_KEY_INIT: FunctionSpec = {
  entry: 'lambdas/functions/signing-key-init.ts',
  capabilities: ['signing-key:read', 'signing-key:write'],
  memorySize: 256,
  timeoutSeconds: 30,
  reservedConcurrency: 2,
  invokedBy: 'custom-resource',
};

/**
 * Secrets Manager's rotation function for the signing-key secret (createSecret / setSecret / testSecret / finishSecret):
 * it reads and describes the secret, puts the pending key and moves AWSCURRENT to it, and records each completed
 * rotation in the registry table's `SYSTEM#signing-key` audit stream (Query for the stream's head, conditional PutItem),
 * which is all `table:append-system-audit` allows.
 */
export const SIGNING_KEY_ROTATION: FunctionSpec = {
  entry: 'lambdas/functions/signing-key-rotation.ts',
  capabilities: ['signing-key:read', 'signing-key:write', 'signing-key:rotate', 'table:append-system-audit'],
  memorySize: 256,
  timeoutSeconds: 30,
  reservedConcurrency: 2,
  invokedBy: 'secrets-manager',
};

/**
 * The resource-server authorizer (GatehouseAuthorizer): it only verifies tokens against the published JWKS, so it touches
 * no Gatehouse resource. The timeout leaves room for jose's 5-second JWKS fetch on a cold start. No reserved concurrency:
 * it runs in the resource server's stack and scales with that API, whose owners size it.
 */
export const AUTHORIZER: FunctionSpec = {
  entry: 'lambdas/functions/authorizer.ts',
  capabilities: [],
  memorySize: 256,
  timeoutSeconds: 10,
  invokedBy: 'resource-server-api',
};
