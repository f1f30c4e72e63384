import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/** Test layers, each with its own script (`npm run test:<name>`); `npm test` runs them all. */
const layers = {
  unit: ['test/lambdas/**/*.test.ts', 'test/bin/**/*.test.ts', 'test/statemachines/**/*.test.ts'],
  cdk: ['test/lib/**/*.test.ts'],
  integration: ['test/integration/**/*.test.ts'],
  browser: ['test/browser/**/*.test.ts'],
};

export default defineConfig({
  test: {
    // CDK synthesis and local-mode integration tests are CPU heavy on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores, which is a single worker on a 2-core machine. Integration and
    // browser tests spend much of their time waiting on sockets, child processes and timers, so a second worker overlaps
    // that wait with another file's work.
    maxWorkers: Math.max(2, availableParallelism()),
    // Test files share one module graph per worker instead of re-importing the AWS SDK, aws-cdk-lib and the local
    // control plane for each file (most of their time was imports). They keep no global state between files: SDK mocks
    // are removed after each file, the default stack is synthesized once per worker and only read
    // (test/lib/stack-fixture.ts), and every local control plane is started and stopped by the file that uses it, on its
    // own port and data.
    isolate: false,
    setupFiles: ['test/setup/restore-sdk-mocks.ts'],
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: Object.entries(layers).map(([name, include]) => ({ extends: true, test: { name, include } })),
    // Transformed modules are kept on disk (node_modules/.experimental-vitest-cache) between runs, keyed by content.
    experimental: { fsModuleCache: true },
  },
});
