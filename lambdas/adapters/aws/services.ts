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

let services: Services | undefined;

/** Builds the AWS adapters once per Lambda instance, from the environment the stack sets. */
export function awsServices(): Services {
  if (services) return services;
  const env = process.env;
  const built: Services = {
    registry: new DynamoRegistry({ tableName: env[ENV.tableName] ?? '' }),
    vault: new SecretsVault({ secretId: env[ENV.signingKeySecretId] ?? '' }),
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
    log: powertoolsLog(),
  };
  services = built;
  return built;
}
