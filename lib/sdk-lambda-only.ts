import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * Three rewrites of AWS SDK core modules, as esbuild loads them into a Gatehouse Lambda bundle, that drop code paths a
 * Lambda function cannot take. Each rewritten module keeps the exports it had, and each behaves as the SDK does in the
 * environment Lambda gives a function (test/lib/sdk-lambda-only.test.ts checks both on the installed SDK and runs a
 * bundle built with them):
 * - the region fallback to the EC2 instance metadata service (IMDS): Lambda has no IMDS and always sets AWS_REGION. The
 *   module returns no region, as the SDK's own does with AWS_EC2_METADATA_DISABLED set; a function without AWS_REGION
 *   fails at once with the SDK's "Region is missing" instead of after a 1 s metadata timeout. About 1.4 KB;
 * - the shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`) behind every client setting the SDK
 *   looks up (region, retry mode, endpoints, ...): a function's file system holds none, and its settings come from the
 *   environment the stack sets. The lookup finds nothing, as the SDK's does when the files do not exist (and without
 *   trying to read them on each client's first call). About 2.5 KB;
 * - the adaptive retry mode (client-side rate limiting), which only `AWS_RETRY_MODE=adaptive` or a client's `retryMode`
 *   would select and which no Gatehouse function uses: every client retries in the standard mode. Selecting adaptive
 *   fails the call with a clear error instead of silently retrying otherwise. About 3.4 KB.
 * Local mode and the tests run the SDK unbundled, unchanged.
 */

/** The module that asks IMDS for the region when neither the environment nor a config file names one. */
export const INSTANCE_METADATA_REGION_MODULE = /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]config[\\/]config-resolver[\\/]regionConfig[\\/]getInstanceMetadataRegion\.js$/;
/** The provider that reads a setting from the shared config files (each `loadConfig` chain: environment, files, default). */
export const SHARED_CONFIG_FILES_MODULE = /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]config[\\/]node-config-provider[\\/]fromSharedConfigFiles\.js$/;
/** The module that builds a client's retry strategy from its retry mode. */
export const RETRY_CONFIG_MODULE = /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]retry[\\/]middleware-retry[\\/]configurations\.js$/;

/** What the IMDS region module becomes: no region, as with AWS_EC2_METADATA_DISABLED. */
export const NO_INSTANCE_METADATA_REGION = 'export const getInstanceMetadataRegion = async () => undefined;\n';

/**
 * What the shared-config provider becomes: it finds nothing, with the error the SDK's own throws for a setting the files
 * do not hold, so the chain goes on to the setting's default (CredentialsProviderError: tryNextLink is true).
 */
export const NO_SHARED_CONFIG_FILES = [
  'import { CredentialsProviderError } from "../property-provider/CredentialsProviderError";',
  'export const fromSharedConfigFiles = (configSelector, { preferredFile = "config", ...init } = {}) => async () => {',
  '    throw new CredentialsProviderError("Not found in config files: a Gatehouse Lambda function reads no shared config files", { logger: init.logger });',
  '};',
  '',
].join('\n');

/** The message a bundle fails with when asked for the adaptive retry mode. */
export const ADAPTIVE_RETRY_REFUSED = 'The adaptive retry mode (AWS_RETRY_MODE=adaptive) is not bundled: Gatehouse functions retry in the standard mode.';

const ADAPTIVE_IMPORT = 'import { AdaptiveRetryStrategy } from "../util-retry/AdaptiveRetryStrategy";\n';
/** The branch of `resolveRetryConfig` that builds the adaptive strategy: `if (adaptive) { return new AdaptiveRetryStrategy(...); }`. */
const ADAPTIVE_BRANCH = /if \(adaptive\) \{\s*return new AdaptiveRetryStrategy\([^{}]*\{[^{}]*\}\);\s*\}/;

/** The retry configuration module without its adaptive branch, which now throws; refuses a module that changed shape. */
export function standardRetryOnly(source: string): string {
  if (!source.includes(ADAPTIVE_IMPORT) || !ADAPTIVE_BRANCH.test(source)) {
    throw new Error('The SDK retry configuration module no longer builds AdaptiveRetryStrategy as expected; review lib/sdk-lambda-only.ts');
  }
  return source.replace(ADAPTIVE_IMPORT, '').replace(ADAPTIVE_BRANCH, `if (adaptive) {\n            throw new Error(${JSON.stringify(ADAPTIVE_RETRY_REFUSED)});\n        }`);
}

/** The esbuild plugin applying the three rewrites (lib/bundling.ts adds it to every Gatehouse bundle). */
export function sdkLambdaOnly(): Plugin {
  return {
    name: 'gatehouse-sdk-lambda-only',
    setup(build) {
      build.onLoad({ filter: INSTANCE_METADATA_REGION_MODULE }, () => ({ contents: NO_INSTANCE_METADATA_REGION, loader: 'js' }));
      build.onLoad({ filter: SHARED_CONFIG_FILES_MODULE }, () => ({ contents: NO_SHARED_CONFIG_FILES, loader: 'js' }));
      build.onLoad({ filter: RETRY_CONFIG_MODULE }, async ({ path }) => ({ contents: standardRetryOnly(await readFile(path, 'utf8')), loader: 'js' }));
    },
  };
}
