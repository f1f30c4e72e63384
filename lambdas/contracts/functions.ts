import type { BaseServices, Services, StoreOperation, TableStores, Uses } from '../core/services.js';
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
  /** The private signing keys (GetSecretValue on the signing-key secret, the key via Secrets Manager): functions that sign. */
  | 'signing-key:read'
  /**
   * The public halves only (GetSecretValue on the public-key secret, kms:Decrypt via Secrets Manager for that secret's ARN
   * only): functions that verify tokens or review links, or publish JWKS, and sign nothing.
   */
  | 'signing-key:read-public'
  /** Writes the signing-key secret and its public mirror. */
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
   * Emails that carry a signed link (attestation links) sent straight through SES, like `mail:send`, by a function
   * whose other mail goes through the notice workflow: a link must never sit in a workflow's execution history.
   */
  | 'link-mail:send'
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
   * Deletes existing client secrets: secretsmanager:DeleteSecret on `<prefix>*` secrets (with a recovery window, or at once
   * for a secret no one needs any more: one a move to keys retired, or one whose update never committed) and nothing else
   * (no rotation, no value, no key).
   */
  | 'client-secrets:delete'
  /**
   * secretsmanager:ListSecrets, which supports no resource-level permission (resource `*`); the function filters by the
   * `<prefix>` name and its `gatehouse:client-id` tag, and the listing carries names, dates and tags, never a value.
   */
  | 'client-secrets:list'
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
   * The operations of the table's ports (lambdas/core/services.ts TableStores) its handler may call. Its entry and local
   * mode give the handler these operations and no others (`ServicesOf`), so a handler that calls another does not
   * compile; the role is allowed the DynamoDB actions of these operations and no others (REGISTRY_OPERATION_ACCESS),
   * within what `table:read` and `table:write` permit: the token function, say, may get, put and update items but never
   * query, scan or delete.
   */
  readonly registry?: readonly StoreOperation[];
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
export type FunctionName =
  | HttpHandlerName
  /** A task of the review state machine. */
  | 'review-task'
  /** Secrets Manager's rotation function for every consumer's client secret. */
  | 'client-secret-rotation'
  /** The lifecycle sweep, run on a schedule by EventBridge (LifecycleSweep). */
  | 'sweep';

/** The specs with their literal types, from which `FunctionServices` derives what each handler is given. */
const SPECS = {
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
    // getRequest: the read shows the status of an update under review.
    registry: ['getConsumer', 'updateConsumer', 'getRequest'],
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
    capabilities: ['table:read', 'table:write', 'signing-key:read-public'],
    registry: ['getConsumer', 'claimOnce', 'hasMarker'],
    memorySize: 512,
    timeoutSeconds: 5,
    reservedConcurrency: 50,
    invokedBy: 'api',
  },
  revocation: {
    entry: 'lambdas/functions/revocation.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read-public'],
    registry: ['getConsumer', 'claimOnce', 'recordTokenRevocation'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 20,
    invokedBy: 'api',
  },
  // JWKS and metadata: resource servers and clients cache them (Cache-Control), so calls are few and fast.
  discovery: {
    entry: 'lambdas/functions/discovery.ts',
    capabilities: ['signing-key:read-public'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 20,
    invokedBy: 'api',
  },
  // The revocation document: signed with the token key and cached (Cache-Control and in memory), so calls are few. It
  // reads one small partition of the table and writes nothing.
  'revocation-list': {
    entry: 'lambdas/functions/revocation-list.ts',
    capabilities: ['table:read', 'signing-key:read'],
    registry: ['listRevocations'],
    memorySize: 256,
    timeoutSeconds: 5,
    reservedConcurrency: 20,
    invokedBy: 'api',
  },
  review: {
    entry: 'lambdas/functions/review.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read-public', 'workflow:callback'],
    registry: ['getConsumer', 'getReview', 'decideReview', 'markReviewDelivered', 'getRequest'],
    memorySize: 256,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  // The attestation pages: verifies links (public keys only), records the owner's answer, opens the reviewed request of a
  // high-risk attestation (workflow:start), and a deregistration deletes the secret and tells the contacts.
  recertification: {
    entry: 'lambdas/functions/recertification.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read-public', 'workflow:start', 'client-secrets:delete', 'notice:send'],
    registry: ['getConsumer', 'updateConsumer', 'getRequest'],
    memorySize: 256,
    timeoutSeconds: 10,
    reservedConcurrency: 5,
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
  // RFC 7592 update and delete: an update that needs review starts its workflow; a changed contact list and a delete
  // notify the contacts (notice:send); a delete, and a move from a secret to keys, schedule the client secret's deletion
  // (client-secrets:delete); a move from keys to a secret issues one, as registration does (client-secrets:create).
  'registration-manage': {
    entry: 'lambdas/functions/registration-manage.ts',
    capabilities: ['table:read', 'table:write', 'workflow:start', 'client-secrets:create', 'client-secrets:delete', 'notice:send'],
    registry: ['getConsumer', 'updateConsumer', 'getRequest'],
    memorySize: 256,
    timeoutSeconds: 10,
    reservedConcurrency: 10,
    invokedBy: 'api',
  },
  // An operator's resend of a pending review's links (IAM-authorised routes): it signs links and emails reviewers, as
  // review-task does, so it is its own function; the admin function holds neither the private signing key nor SES.
  'review-links': {
    entry: 'lambdas/functions/review-links.ts',
    capabilities: ['table:read', 'table:write', 'signing-key:read', 'mail:send'],
    registry: ['getConsumer', 'getRequest', 'getReview', 'renewReviewLinks'],
    memorySize: 256,
    timeoutSeconds: 15,
    reservedConcurrency: 2,
    invokedBy: 'api',
  },
  // Reads only due consumers (the sparse `attention` index) and stops itself before the timeout; the next run continues.
  // It only ever deletes client secrets (of revoked consumers, and orphans whose registration never committed, which
  // client-secrets:list finds), hence client-secrets:delete and not :manage.
  // workflow:start: the sweep restarts the review workflow of a request registration could neither start nor close.
  // signing-key:read: it signs the attestation links sent when a consumer's recertification falls due, and sends them
  // straight through SES (link-mail:send), never through the notice workflow, whose execution history would hold them.
  sweep: {
    entry: 'lambdas/functions/sweep.ts',
    capabilities: [
      'table:read',
      'table:write',
      'client-secrets:delete',
      'client-secrets:list',
      'notice:send',
      'link-mail:send',
      'workflow:start',
      'signing-key:read',
    ],
    registry: ['getConsumer', 'updateConsumer', 'listConsumers', 'getRequest', 'listRequests', 'listDue', 'rearm', 'getPolicyRollout', 'savePolicyRollout'],
    memorySize: 512,
    timeoutSeconds: 300,
    reservedConcurrency: 2,
    invokedBy: 'schedule',
  },
} as const satisfies Readonly<Record<FunctionName, FunctionSpec>>;

/** One Lambda function per handler; HTTP ones are wired to API Gateway by the route table, the others are invoked by AWS services. */
export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = SPECS;

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

/** The ports a capability gives a function's handler, besides the table's (which follow `registry`). */
export const PORT_CAPABILITIES = {
  vault: ['signing-key:read', 'signing-key:read-public'],
  workflow: ['workflow:start', 'workflow:callback'],
  mailer: ['mail:send', 'notice:send'],
  linkMailer: ['link-mail:send'],
  clientSecrets: ['client-secrets:create', 'client-secrets:read', 'client-secrets:manage', 'client-secrets:delete', 'client-secrets:rotate'],
} as const satisfies Readonly<Record<string, readonly Capability[]>>;

type CapabilityPort = keyof typeof PORT_CAPABILITIES;

/** The capability ports `C` gives. */
type PortsFor<C extends Capability> = {
  readonly [P in CapabilityPort as [Extract<C, (typeof PORT_CAPABILITIES)[P][number]>] extends [never] ? never : P]: Services[P];
};

type OperationsOf<S extends FunctionSpec> = S extends { readonly registry: readonly (infer Op extends StoreOperation)[] } ? Op : never;

/** The capability ports a function of spec `S` has; its Lambda entry gives a factory for each (lambdas/adapters/aws/services.ts). */
export type CapabilityPortsOf<S extends FunctionSpec> = PortsFor<S['capabilities'][number]>;

/**
 * What the handler of a function of spec `S` is given, in its Lambda and in local mode: the ports of its capabilities and
 * the table's ports narrowed to the operations it lists. A handler states what it needs; giving it `ServicesOf` its
 * function's spec compiles only if the spec allows all of it.
 */
export type ServicesOf<S extends FunctionSpec> = BaseServices & CapabilityPortsOf<S> & Uses<OperationsOf<S>>;

/** What the handler of function `N` is given (its spec's `ServicesOf`). */
export type FunctionServices<N extends FunctionName> = ServicesOf<(typeof SPECS)[N]>;

/** The table operations function `N` may call (`never`: it has no table ports). */
export type FunctionOperations<N extends FunctionName> = OperationsOf<(typeof SPECS)[N]>;

/** The capability ports function `N` has. */
export type FunctionCapabilityPorts<N extends FunctionName> = CapabilityPortsOf<(typeof SPECS)[N]>;

/** Whether a function of `spec` has the capability port `port`. */
export function hasPort(spec: FunctionSpec, port: CapabilityPort): boolean {
  return spec.capabilities.some((c) => (PORT_CAPABILITIES[port] as readonly Capability[]).includes(c));
}

const TABLE_STORES: readonly (keyof TableStores)[] = ['consumers', 'reviews', 'requests', 'markers', 'attention', 'rollouts', 'revocations'];

/**
 * The table's ports narrowed to `operations`. Each operation is looked up on `stores` when called, so a test that stubs
 * a shared store reaches every function built over it.
 */
export function storesFor<Op extends StoreOperation>(operations: readonly Op[], stores: TableStores): Uses<Op> {
  const picked: Record<string, Record<string, unknown>> = {};
  for (const name of TABLE_STORES) {
    const store = stores[name] as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const operation of operations) {
      if (operation in store) (picked[name] ??= {})[operation] = (...args: unknown[]) => store[operation]!(...args);
    }
  }
  return picked as Uses<Op>;
}
