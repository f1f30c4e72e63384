import type { BuildOptions } from 'esbuild';
import { POLICY_DEFINE } from '../lambdas/adapters/aws/env.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';
import { sdkTreeShaking } from './sdk-tree-shaking.js';
import { sdkLambdaOnly } from './sdk-lambda-only.js';

/** Lets CommonJS dependencies inside an ESM bundle call `require` for Node built-ins. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * How every Gatehouse function is bundled, as plain (JSON) esbuild options. CDK (lib/gatehouse-bundling.ts, which passes
 * them to bin/bundle.ts in a child process) and `bench/bundles.bench.ts` both build with esbuild's JS API from this one
 * object through `esbuildBuildOptions`, so the bundle the bench measures is the bundle that is deployed;
 * test/lib/handler-functions.bundling.test.ts compares the two byte for byte.
 */
export interface GatehouseEsbuildOptions {
  readonly bundle: true;
  readonly platform: 'node';
  readonly format: 'esm';
  readonly target: string;
  readonly mainFields: readonly string[];
  readonly banner: { readonly js: string };
  readonly minify: boolean;
  readonly sourcemap: boolean;
  readonly sourcesContent: boolean;
  readonly external: readonly string[];
  /** Import paths replaced by another module, relative to the project root (esbuild resolves aliases from its working directory). */
  readonly alias: Readonly<Record<string, string>>;
  readonly define: Readonly<Record<string, string>>;
}

/**
 * Modules swapped at bundling time, each for a smaller one that does all a Gatehouse function needs of it (each target
 * module says why nothing is lost; test/lib/bundle-aliases.test.ts checks those claims on the installed SDK and runs a
 * bundle built with them against local DynamoDB and Secrets Manager endpoints):
 * - the SDK clients' default credential chain, by the Lambda-only chain in lambda-credentials.ts (about 130 KB);
 * - the event-stream codecs the SDK's protocols load only for event-stream operations, which no service Gatehouse calls
 *   has (about 20 KB);
 * - DynamoDB's endpoint-discovery package, whose endpoint cache no command reads (about 8 KB);
 * - the multi-region (SigV4a) signer SES v2 loads, by the SigV4 signer in sigv4-only.ts (about 4 KB);
 * - the SDK's checksum module, of which the clients use only SHA-256, by Node's own in native-sha256.ts (about 3 KB).
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lambdas/adapters/aws/lambda-credentials.ts',
  '@smithy/core/event-streams': './lambdas/adapters/aws/without-event-streams.ts',
  '@aws-sdk/middleware-endpoint-discovery': './lambdas/adapters/aws/without-endpoint-discovery.ts',
  '@aws-sdk/signature-v4-multi-region': './lambdas/adapters/aws/sigv4-only.ts',
  '@smithy/core/checksum': './lambdas/adapters/aws/native-sha256.ts',
};

/** The file every bundle is written to (the Lambda handler `index.handler` loads it). */
export const BUNDLE_FILE = 'index.mjs';

/**
 * esbuild options shared by every Gatehouse function. The validated policy document, when given, is compiled in under
 * POLICY_DEFINE as a string literal (esbuild `define` values are JS expressions, hence the double JSON.stringify), so at
 * runtime `__GATEHOUSE_POLICY__` is a string holding the policy JSON and no function reads the policy from anywhere else.
 *
 * The AWS SDK is bundled rather than taken from the runtime: the versions pinned in package-lock.json are the ones that
 * were tested, esbuild tree-shakes them, and one minified file starts faster than resolving and compiling the SDK's
 * hundreds of CommonJS files from node_modules (bench/bundles.bench.ts, `BENCH_EXTERNAL_SDK=1`, measures the difference).
 */
export function gatehouseEsbuildOptions(policy?: LoadedPolicy): GatehouseEsbuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: [],
    alias: BUNDLE_ALIASES,
    define: policy ? { [POLICY_DEFINE]: JSON.stringify(JSON.stringify(policy.document)) } : {},
  };
}

/**
 * The same options for esbuild's JS API, bundling `entry` (relative to `projectRoot`) into `<outdir>/index.mjs`, with the
 * SDK plugins every Gatehouse bundle is built with: tree-shaking (lib/sdk-tree-shaking.ts) and the Lambda-only rewrites
 * (lib/sdk-lambda-only.ts).
 */
export function esbuildBuildOptions(
  options: GatehouseEsbuildOptions,
  build: { readonly projectRoot: string; readonly entry: string; readonly outdir: string },
): BuildOptions {
  return {
    absWorkingDir: build.projectRoot,
    entryPoints: [build.entry],
    outfile: `${build.outdir}/${BUNDLE_FILE}`,
    bundle: options.bundle,
    platform: options.platform,
    format: options.format,
    target: options.target,
    mainFields: [...options.mainFields],
    banner: { ...options.banner },
    minify: options.minify,
    sourcemap: options.sourcemap,
    sourcesContent: options.sourcesContent,
    external: [...options.external],
    alias: { ...options.alias },
    define: { ...options.define },
    plugins: [sdkTreeShaking(), sdkLambdaOnly()],
  };
}
