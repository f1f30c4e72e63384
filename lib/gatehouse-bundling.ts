import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type BundlingOptions, type ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { GatehouseEsbuildOptions } from './bundling.js';

/** The script that bundles one function with esbuild's JS API (what CDK runs, in a child process). */
const BUNDLE_SCRIPT = fileURLToPath(new URL('../bin/bundle.ts', import.meta.url));
/** Where the child runs: the Gatehouse repository, whose node_modules has tsx and esbuild. */
const GATEHOUSE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What bin/bundle.ts reads from its standard input. */
export interface BundleRequest {
  readonly projectRoot: string;
  readonly entry: string;
  readonly outdir: string;
  readonly options: GatehouseEsbuildOptions;
}

/** Thrown when bundling a function fails; `cdk synth` stops with the esbuild output. */
export class BundlingError extends Error {
  override readonly name = 'BundlingError';
}

/**
 * Bundles a Gatehouse function on this machine, never in Docker. CDK's local bundling hook is synchronous and esbuild's
 * plugins (lib/sdk-tree-shaking.ts, lib/sdk-lambda-only.ts) run only through its asynchronous JS API, so the build runs
 * in a child Node process (bin/bundle.ts, through tsx) that CDK waits for. The fields are what CDK's asset cache key is computed from: one entry
 * with one set of options is bundled once per synth.
 */
export class GatehouseLocalBundling implements ILocalBundling {
  constructor(
    public readonly projectRoot: string,
    public readonly entry: string,
    public readonly options: GatehouseEsbuildOptions,
  ) {}

  tryBundle(outputDir: string): boolean {
    const request: BundleRequest = { projectRoot: this.projectRoot, entry: this.entry, outdir: outputDir, options: this.options };
    try {
      execFileSync(process.execPath, ['--import', 'tsx', BUNDLE_SCRIPT], {
        cwd: GATEHOUSE_ROOT,
        input: JSON.stringify(request),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      throw new BundlingError(`bundling ${this.entry} failed${stderr ? `:\n${stderr}` : ''}`, { cause: error });
    }
    return true;
  }
}

/**
 * A Lambda function's code: `entry` bundled by GatehouseLocalBundling, hashed by its output (as NodejsFunction does), so
 * a source change that leaves the bundle identical deploys nothing.
 */
export function gatehouseCode(projectRoot: string, entry: string, options: GatehouseEsbuildOptions): lambda.Code {
  const bundling: BundlingOptions = {
    // Required by the type; never pulled, because local bundling either succeeds or stops the synth.
    image: DockerImage.fromRegistry('gatehouse-bundles-locally'),
    local: new GatehouseLocalBundling(projectRoot, entry, options),
  };
  return lambda.Code.fromAsset(projectRoot, { assetHashType: AssetHashType.OUTPUT, bundling });
}
