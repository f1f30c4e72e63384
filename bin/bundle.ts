import { build } from 'esbuild';
import { esbuildBuildOptions } from '../lib/bundling.js';
import type { BundleRequest } from '../lib/gatehouse-bundling.js';

/**
 * Bundles one Gatehouse function: reads a BundleRequest (lib/gatehouse-bundling.ts) as JSON from standard input and writes
 * `<outdir>/index.mjs` and its source map. CDK runs this for every function at synth; errors go to standard error and
 * the exit code is 1.
 */
async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BundleRequest;
  await build({ ...esbuildBuildOptions(request.options, request), logLevel: 'silent' });
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
