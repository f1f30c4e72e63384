import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';
import { fromHttp, type FromHttpOptions } from '@aws-sdk/credential-provider-http';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** Variables through which a container credentials endpoint is offered (what the SDK's `fromHttp` reads). */
const CONTAINER_CREDENTIALS_ENV = ['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'] as const;

/**
 * The credential chain of every AWS SDK client inside a Gatehouse Lambda bundle. lib/bundling.ts aliases
 * `@aws-sdk/credential-provider-node` to this module, because the SDK's default chain (profiles, SSO, web identity, STS,
 * process, instance metadata) is about 130 KB of each bundle that a Lambda function never runs: the runtime hands the
 * function's role credentials to it in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, which is the
 * first link of the SDK's chain too. A runtime that offers a container credentials endpoint instead is served by the
 * SDK's own `fromHttp`, the link the default chain would reach next. Neither is there: the SDK's clear error, raised on
 * the first call (never at init), rather than a slow walk through providers that cannot apply.
 *
 * Same name and shape as the module it replaces (`defaultProvider(init)` returning a provider); the client memoizes the
 * provider and refreshes credentials that carry an expiry. Local mode and tests run unbundled and keep the default chain.
 */
export function defaultProvider(init: FromEnvInit & FromHttpOptions = {}): AwsCredentialIdentityProvider {
  const env = process.env;
  if (!env['AWS_ACCESS_KEY_ID'] && CONTAINER_CREDENTIALS_ENV.some((name) => env[name])) return fromHttp(init);
  return fromEnv(init);
}
