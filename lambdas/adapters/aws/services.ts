import { EmfMetrics } from './emf-metrics.js';
import { powertoolsLog } from './log.js';
import { compiledPolicy } from '../../core/policy/compiled.js';
import type { PolicyDocument } from '../../core/policy/schema.js';
import type { Services } from '../../core/services.js';
import { ENV } from './env.js';
import type { ClientSecretStore, Mailer, Registry, Vault, Workflow } from '../../core/ports.js';

/** The policy validated at synth time and compiled into the bundle by esbuild `define` (lib/bundling.ts). */
declare const __GATEHOUSE_POLICY__: string;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}

let services: Services | undefined;

/**
 * The adapters a function has capabilities for (lambdas/contracts/functions.ts): each entry file passes the factories it needs, so a
 * function's bundle holds only the AWS clients it may call (the token function carries no SES or Step Functions client, the
 * discovery function no DynamoDB client).
 */
export interface AwsParts {
  /** Any `table:*`: lambdas/adapters/aws/dynamo-registry.ts `dynamoRegistryFromEnv`, given the operations the handler calls. */
  readonly registry?: () => Registry;
  /** `signing-key:read`: lambdas/adapters/aws/secrets-vault.ts `secretsVaultFromEnv`; `signing-key:read-public`: `publicKeysVaultFromEnv`. */
  readonly vault?: () => Vault;
  /** `workflow:start` or `workflow:callback`: lambdas/adapters/aws/sfn-workflow.ts `sfnWorkflowFromEnv`. */
  readonly workflow?: () => Workflow;
  /**
   * `mail:send`: lambdas/adapters/aws/ses-mailer.ts `sesMailerFromEnv`; `notice:send`: lambdas/adapters/aws/sfn-notice-mailer.ts
   * `noticeMailerFromEnv` (the consumer-notice workflow sends and retries).
   */
  readonly mailer?: () => Mailer;
  /** Any `client-secrets:*`: lambdas/adapters/aws/secrets-client-secrets.ts `clientSecretsFromEnv`. */
  readonly clientSecrets?: () => ClientSecretStore;
}

/** A port this function has no capability for: using it is a bug, reported loudly rather than as AccessDenied. */
export function absentPort<T extends object>(port: string): T {
  return new Proxy({} as T, {
    get: (_target, member) => () => {
      throw new Error(`This function has no ${port} capability (lambdas/contracts/functions.ts), so it cannot call ${port}.${String(member)}.`);
    },
  });
}

/** Builds the AWS adapters once per Lambda instance, from the environment the stack sets. */
export function awsServices(parts: AwsParts = {}): Services {
  if (services) return services;
  const env = process.env;
  const log = powertoolsLog();
  const built: Services = {
    registry: parts.registry?.() ?? absentPort<Registry>('registry'),
    vault: parts.vault?.() ?? absentPort<Vault>('signing-key'),
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
      serviceDocumentation: env[ENV.serviceDocumentation] || undefined,
      maxBodyBytes: 64 * 1024,
      reviewers: JSON.parse(env[ENV.reviewers] ?? '{"default":[]}'),
    },
    log,
    metrics: new EmfMetrics({ log }),
  };
  services = built;
  return built;
}
