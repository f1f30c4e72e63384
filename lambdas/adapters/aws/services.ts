import { EmfMetrics } from './emf-metrics.js';
import { powertoolsLog } from './log.js';
import { compiledPolicy } from '../../core/policy/compiled.js';
import type { PolicyDocument } from '../../core/policy/schema.js';
import type { Services } from '../../core/services.js';
import { DynamoRegistry } from './dynamo-registry.js';
import { ENV } from './env.js';
import type { ClientSecretStore, Mailer, Workflow } from '../../core/ports.js';
import { SecretsVault } from './secrets-vault.js';

/** The policy validated at synth time and compiled into the bundle by esbuild `define` (lib/bundling.ts). */
declare const __GATEHOUSE_POLICY__: string;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}

/**
 * Client settings for the AWS calls on a request path: the registry table and the signing-key read. With the SDK's
 * defaults a silent endpoint holds a call until the socket's 5-minute idle timeout (far past every function timeout, so
 * API Gateway answers 504 without Retry-After), and DynamoDB's client makes 4 attempts with throttling backoff of up to
 * 1 + 2 + 4 s. Here each attempt ends within `requestTimeout` (connecting included), and 3 attempts with the SDK's backoff
 * give up within about 4 s, under the 5-second timeout of the shortest function on a request path (lib/functions.ts); the
 * caller then gets 503 with Retry-After (test/lambdas/faults/sdk-retry.test.ts checks both).
 */
export const REQUEST_PATH_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000, throwOnRequestTimeout: true },
} as const;

let services: Services | undefined;

/**
 * The adapters a function has capabilities for (lib/functions.ts): each entry file passes the factories it needs, so a
 * function's bundle holds only the AWS clients it may call (the token function carries no SES or Step Functions client).
 */
export interface AwsParts {
  /** `workflow:start` or `workflow:callback`: lambdas/adapters/aws/sfn-workflow.ts `sfnWorkflowFromEnv`. */
  readonly workflow?: () => Workflow;
  /** `mail:send`: lambdas/adapters/aws/ses-mailer.ts `sesMailerFromEnv`. */
  readonly mailer?: () => Mailer;
  /** Any `client-secrets:*`: lambdas/adapters/aws/secrets-client-secrets.ts `clientSecretsFromEnv`. */
  readonly clientSecrets?: () => ClientSecretStore;
}

/** A port this function has no capability for: using it is a bug, reported loudly rather than as AccessDenied. */
export function absentPort<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_target, member) => () => {
      throw new Error(`This function has no ${port} capability (lib/functions.ts), so it cannot call ${port}.${String(member)}.`);
    },
  });
}

/** Builds the AWS adapters once per Lambda instance, from the environment the stack sets. */
export function awsServices(parts: AwsParts = {}): Services {
  if (services) return services;
  const env = process.env;
  const log = powertoolsLog();
  const built: Services = {
    registry: new DynamoRegistry({ tableName: env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }),
    vault: new SecretsVault({ secretId: env[ENV.signingKeySecretId] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }),
    clientSecrets: parts.clientSecrets?.() ?? absentPort<ClientSecretStore>('client-secrets'),
    workflow: parts.workflow?.() ?? absentPort<Workflow>('workflow'),
    mailer: parts.mailer?.() ?? absentPort<Mailer>('mail:send'),
    clock: { now: () => new Date() },
    policy: compiledPolicy(JSON.parse(__GATEHOUSE_POLICY__) as PolicyDocument),
    config: {
      issuer: required(ENV.issuer),
      tokenAudience: required(ENV.tokenAudience),
      softwareStatement: {
        issuer: required(ENV.softwareStatementIssuer),
        jwks: JSON.parse(required(ENV.softwareStatementJwks)),
      },
      consumerCacheMs: Number(env[ENV.consumerCacheMs] ?? 5000),
      maxBodyBytes: 64 * 1024,
      reviewers: JSON.parse(env[ENV.reviewers] ?? '{"default":[]}'),
    },
    log,
    metrics: new EmfMetrics({ log }),
  };
  services = built;
  return built;
}
