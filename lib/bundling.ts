import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { POLICY_DEFINE } from '../lambdas/adapters/aws/env.js';
import type { LoadedPolicy } from '../lambdas/core/policy/load.js';

/** Lets CommonJS dependencies inside an ESM bundle call `require` for Node built-ins. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The one module swapped at bundling time: the SDK clients' default credential chain, by the Lambda-only chain in
 * lambda-credentials.ts. The default chain (profiles, SSO, web identity, STS, process, instance metadata) is a large share
 * of each bundle and of its cold start, and a function never runs past its first link, the role credentials the
 * runtime puts in the environment. It is a plain esbuild alias: the SDK's own files are bundled as published. The path is
 * relative to the project root, where esbuild runs.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': './lambdas/adapters/aws/lambda-credentials.ts',
};

/** The file every bundle is written to (the Lambda handler `index.handler` loads it). */
export const BUNDLE_FILE = 'index.mjs';

/**
 * How every Gatehouse function is bundled by CDK's NodejsFunction (esbuild on this machine, no Docker): minified ESM with
 * a source map, the esbuild target following the Lambda runtime. The validated policy document, when given, is compiled in
 * under POLICY_DEFINE as a string literal (esbuild `define` values are JS expressions, hence the double JSON.stringify), so
 * at run time `__GATEHOUSE_POLICY__` is a string holding the policy JSON and no function reads the policy from anywhere else.
 *
 * The AWS SDK is bundled rather than taken from the runtime (`externalModules: []`): the versions pinned in
 * package-lock.json are the ones that were tested, and one minified file starts faster than resolving the SDK's
 * hundreds of CommonJS files from the runtime's node_modules.
 */
export function gatehouseBundling(policy?: LoadedPolicy): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_BANNER,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    externalModules: [],
    esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to])),
    define: policy ? { [POLICY_DEFINE]: JSON.stringify(JSON.stringify(policy.document)) } : {},
  };
}
