import { EmfMetrics } from './emf-metrics.js';
import { powertoolsLog } from './log.js';
import type { OperatorEntry } from '../../core/admin/operators.js';
import { compiledPolicy } from '../../core/policy/compiled.js';
import type { PolicyDocument } from '../../core/policy/schema.js';
import type { BaseServices, TableStores } from '../../core/services.js';
import {
  FUNCTIONS,
  storesFor,
  type FunctionCapabilityPorts,
  type FunctionName,
  type FunctionOperations,
  type FunctionServices,
} from '../../contracts/functions.js';
import { ENV } from './env.js';

/** The policy validated at synth time and compiled into the bundle by esbuild `define` (lib/bundling.ts). */
declare const __GATEHOUSE_POLICY__: string;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}

let services: unknown;

/**
 * The factories of the ports function `N`'s spec gives it (lambdas/contracts/functions.ts), one per port, which its entry
 * passes, so its bundle holds only the AWS clients it may call (the token function carries no SES or Step Functions
 * client, the discovery function no DynamoDB client): table operations `stores` (dynamo-registry.ts `dynamoStoresFromEnv`);
 * `signing-key:read` `vault` (secrets-vault.ts `secretsVaultFromEnv`); `workflow:*` `workflow` (sfn-workflow.ts
 * `sfnWorkflowFromEnv`); `mail:send` `mailer` (ses-mailer.ts `sesMailerFromEnv`) or, for `notice:send`, sfn-notice-mailer.ts
 * `noticeMailerFromEnv` (the consumer-notice workflow sends and retries); `client-secrets:*` `clientSecrets`
 * (secrets-client-secrets.ts `clientSecretsFromEnv`). The type requires each of these and allows no other.
 */
export type AwsParts<N extends FunctionName> = { readonly [P in keyof FunctionCapabilityPorts<N>]: () => FunctionCapabilityPorts<N>[P] } & ([
  FunctionOperations<N>,
] extends [never]
  ? unknown
  : { readonly stores: () => TableStores });

/**
 * Builds what function `N`'s handler is given, once per Lambda instance, from its spec and the environment the stack sets:
 * the ports of its capabilities from `parts`, and the registry table's ports with the operations its spec lists.
 */
export function awsServices<N extends FunctionName>(name: N, parts: AwsParts<N>): FunctionServices<N> {
  if (services) return services as FunctionServices<N>;
  const env = process.env;
  const log = powertoolsLog();
  const spec = FUNCTIONS[name];
  const base: BaseServices = {
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
      // Validated at synth (lib/app-config.ts), like the reviewer groups.
      operators: JSON.parse(env[ENV.operators] ?? '[]') as OperatorEntry[],
    },
    log,
    metrics: new EmfMetrics({ log }),
  };
  const { stores, ...factories } = parts as { readonly stores?: () => TableStores } & Record<string, () => unknown>;
  const ports = Object.fromEntries(Object.entries(factories).map(([port, build]) => [port, build()]));
  services = { ...base, ...ports, ...(stores ? storesFor(spec.registry ?? [], stores()) : {}) };
  return services as FunctionServices<N>;
}
