import { EmfMetrics } from './emf-metrics.js';
import { powertoolsLog } from './log.js';
import { loadPolicy } from '../../core/policy/load.js';
import type { Services } from '../../core/services.js';
import { DynamoRegistry } from './dynamo-registry.js';
import { ENV, MAIL_FROM_ENV } from './env.js';
import { SecretsManagerClientSecrets } from './secrets-client-secrets.js';
import { SecretsVault } from './secrets-vault.js';
import { SesMailer } from './ses-mailer.js';
import { SfnWorkflow } from './sfn-workflow.js';

/** The validated policy, compiled into the bundle by esbuild `define` at synth time. */
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

/** Builds the AWS adapters once per Lambda instance, from the environment the stack sets. */
export function awsServices(): Services {
  if (services) return services;
  const env = process.env;
  const log = powertoolsLog();
  const built: Services = {
    registry: new DynamoRegistry({ tableName: env[ENV.tableName] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }),
    vault: new SecretsVault({ secretId: env[ENV.signingKeySecretId] ?? '', clientConfig: REQUEST_PATH_CLIENT_CONFIG }),
    clientSecrets: new SecretsManagerClientSecrets({
      namePrefix: env[ENV.clientSecretPrefix] ?? 'gatehouse/clients/',
      kmsKeyId: env[ENV.clientSecretKeyId] ?? '',
      rotationLambdaArn: env[ENV.clientSecretRotationArn] ?? '',
    }),
    workflow: new SfnWorkflow({ stateMachineArn: env[ENV.stateMachineArn] ?? '' }),
    mailer: new SesMailer({ from: env[MAIL_FROM_ENV] ?? '' }),
    clock: { now: () => new Date() },
    policy: loadPolicy(JSON.parse(__GATEHOUSE_POLICY__)),
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
