import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatehouseEsbuildOptions } from '../../lib/bundling.js';
import { BundlingError, GatehouseLocalBundling } from '../../lib/gatehouse-bundling.js';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../../lib/gatehouse-function.js';

describe('GatehouseLocalBundling', () => {
  const dirs: string[] = [];
  const outdir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-local-bundling-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the bundle and its source map into the directory CDK gives it, in a child process', () => {
    const dir = outdir();
    const bundling = new GatehouseLocalBundling(PROJECT_ROOT, 'test/lib/fixtures/policy-probe.ts', gatehouseEsbuildOptions());

    expect(bundling.tryBundle(dir)).toBe(true);
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
  }, 30_000);

  it('stops the synth with esbuild’s error, naming the entry, when the entry does not build', () => {
    const bundling = new GatehouseLocalBundling(PROJECT_ROOT, 'test/lib/fixtures/no-such-entry.ts', gatehouseEsbuildOptions());

    let error: unknown;
    try {
      bundling.tryBundle(outdir());
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(BundlingError);
    expect((error as Error).message).toMatch(/^bundling test\/lib\/fixtures\/no-such-entry\.ts failed:\n[\s\S]*Could not resolve "test\/lib\/fixtures\/no-such-entry\.ts"/);
  }, 30_000);

  it('carries the entry and the options in its fields, which CDK’s asset cache key is computed from', () => {
    const options = gatehouseEsbuildOptions();
    const a = JSON.stringify(new GatehouseLocalBundling(PROJECT_ROOT, 'lambdas/functions/token.ts', options));
    const b = JSON.stringify(new GatehouseLocalBundling(PROJECT_ROOT, 'lambdas/functions/review.ts', options));
    expect(a).not.toBe(b);
    expect(JSON.parse(a)).toEqual({ projectRoot: PROJECT_ROOT, entry: 'lambdas/functions/token.ts', options });
  });
});
