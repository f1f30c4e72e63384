import { defineConfig } from 'vitest/config';

/** Test layers, each with its own script (`npm run test:<name>`); `npm test` runs them all. */
const layers = {
  unit: ['test/lambdas/**/*.test.ts', 'test/bin/**/*.test.ts', 'test/statemachines/**/*.test.ts'],
  cdk: ['test/lib/**/*.test.ts'],
  integration: ['test/integration/**/*.test.ts'],
  browser: ['test/browser/**/*.test.ts'],
};

/**
 * Unit and CDK test files share one module graph per worker instead of re-importing the AWS SDK and aws-cdk-lib for each
 * file (most of their time was imports). They keep no global state between files: SDK mocks are replaced by the next
 * mockClient, and the default stack is synthesized once per worker and only read (test/lib/stack-fixture.ts).
 */
const shared = new Set(['unit', 'cdk']);

export default defineConfig({
  test: {
    // CDK synthesis and local-mode integration tests are CPU heavy on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: Object.entries(layers).map(([name, include]) => ({
      extends: true,
      test: { name, include, ...(shared.has(name) ? { isolate: false, setupFiles: ['test/setup/restore-sdk-mocks.ts'] } : {}) },
    })),
  },
});
