import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Template } from 'aws-cdk-lib/assertions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, MAIL_FROM_ENV } from '../../lambdas/adapters/aws/env.js';
import { BUNDLE_FILE, esbuildBuildOptions, gatehouseEsbuildOptions } from '../../lib/bundling.js';
import * as registryOperations from '../../lambdas/adapters/aws/dynamo-operations.js';
import { accessOf, type RegistryOperationName } from '../../lambdas/adapters/aws/registry-access.js';
import { FUNCTIONS, SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, type FunctionSpec } from '../../lib/functions.js';
import { SYSTEM_AUDIT_ACTIONS } from '../../lib/registry-table.js';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { defaultConfig, logicalId, testApp } from './stack-fixture.js';

const run = promisify(execFile);

/** Every operation of the DynamoDB registry (dynamo-operations.ts exports nothing else at run time). */
const OPERATIONS = Object.keys(registryOperations);

/**
 * The registry operations a minified bundle names as code: property accesses, calls, destructuring, object keys. A name
 * inside a string (an OpenAPI operationId such as "getConsumer") is not a call and is not counted.
 */
function operationsNamedIn(bundle: string): string[] {
  return OPERATIONS.filter((name) => new RegExp(`(?<!["'\`])\\b${name}\\b`).test(bundle));
}

/** The operations an entry gives its registry: `dynamoRegistryFromEnv({ a, b })` or `registryWith(table, { a, b })`; undefined if it builds none. */
function operationsGivenBy(entrySource: string): string[] | undefined {
  const given = /(?:dynamoRegistryFromEnv\(|registryWith\(.*?,\s*)\{([^}]*)\}\)/.exec(entrySource)?.[1];
  return given?.split(',').map((name) => name.trim()).filter(Boolean);
}

/**
 * Real esbuild bundling of every Gatehouse function (what `cdk synth` does), then loading each bundle the way the Lambda
 * runtime does: an ESM import with the stack's environment, which runs the module's start-up (config, compiled policy).
 */
describe('HandlerFunctions bundles', () => {
  const config = defaultConfig();
  /** What every handler reads at start-up (the stack sets these; see handler-functions.test.ts). */
  const runtimeEnv = {
    AWS_REGION: 'eu-west-1',
    [ENV.issuer]: 'https://gatehouse.test/v1',
    [ENV.tokenAudience]: config.tokenAudience,
    [ENV.softwareStatementIssuer]: config.softwareStatementIssuer,
    [ENV.softwareStatementJwks]: JSON.stringify(config.softwareStatementJwks),
    [ENV.consumerCacheMs]: '5000',
    [ENV.reviewers]: JSON.stringify(config.reviewers),
    [MAIL_FROM_ENV]: config.mailFrom,
  };
  let bundles: Array<{ name: string; dir: string }>;

  beforeAll(() => {
    const app = testApp(true);
    const stack = new GatehouseStack(app, 'Gatehouse', config);
    const assembly = app.synth();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Code: { S3Key: string } } }>;
    const functions: Array<[string, LambdaFunction]> = [
      ...Object.entries(stack.handlers.functions),
      ['signing-key-init', stack.signingKey.initFunction.function],
      ['signing-key-rotation', stack.signingKey.rotationFunction.function],
    ];
    bundles = functions.map(([name, fn]) => ({
      name,
      dir: join(assembly.directory, `asset.${resources[logicalId(fn)]!.Properties.Code.S3Key.replace(/\.zip$/, '')}`),
    }));
  }, 120_000);

  it('emits one minified ESM file with the createRequire banner and a source map per function', () => {
    // Every handler in FUNCTIONS plus the signing-key seeding and rotation functions.
    expect(bundles.map((b) => b.name).sort()).toEqual([...Object.keys(FUNCTIONS), 'signing-key-init', 'signing-key-rotation'].sort());
    for (const { name, dir } of bundles) {
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), name).toBe(true);
    }
  });

  it('compiles the validated policy into every handler bundle', () => {
    for (const { name, dir } of bundles.filter((b) => !b.name.startsWith('signing-key-'))) {
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8'), name).toContain(config.policy.document.id);
    }
  });

  it('is byte for byte what the esbuild JS API makes from gatehouseEsbuildOptions (what bench/bundles.bench.ts measures)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'gatehouse-bundling-'));
    try {
      // One function with the policy compiled in, one without.
      for (const [name, entry, policy] of [
        ['token', FUNCTIONS.token.entry, config.policy],
        ['signing-key-rotation', SIGNING_KEY_ROTATION.entry, undefined],
      ] as const) {
        const outdir = join(out, name);
        await build({ ...esbuildBuildOptions(gatehouseEsbuildOptions(policy), { projectRoot: PROJECT_ROOT, entry, outdir }), logLevel: 'silent' });
        const cdkBundle = bundles.find((b) => b.name === name)!;
        expect(readFileSync(join(outdir, BUNDLE_FILE)).equals(readFileSync(join(cdkBundle.dir, 'index.mjs'))), name).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('leaves out the SDK default credential chain everywhere, and zod where only the compiled policy is read', async () => {
    /** The packages bundled into a function (esbuild's metafile), by package name. */
    const packagesOf = async (entry: string): Promise<Set<string>> => {
      const options = esbuildBuildOptions(gatehouseEsbuildOptions(config.policy), { projectRoot: PROJECT_ROOT, entry, outdir: join(tmpdir(), 'unused') });
      const { metafile } = await build({ ...options, write: false, metafile: true, logLevel: 'silent' });
      return new Set(Object.keys(metafile.inputs).flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? []));
    };
    const token = await packagesOf(FUNCTIONS.token.entry);
    const register = await packagesOf(FUNCTIONS.register.entry);
    for (const [name, packages] of [['token', token], ['register', register]] as const) {
      expect(packages.has('@aws-sdk/client-dynamodb'), name).toBe(true);
      expect(packages.has('@aws-sdk/credential-provider-env'), name).toBe(true);
      for (const chainPart of ['@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients', '@aws-sdk/credential-provider-ini', '@smithy/credential-provider-imds']) {
        expect(packages.has(chainPart), `${name}: ${chainPart}`).toBe(false);
      }
    }
    // The token function reads the policy compiled in at synth (lambdas/core/policy/compiled.ts); registration validates
    // request bodies with zod, so the same check finds it there.
    expect(token.has('zod')).toBe(false);
    expect(register.has('zod')).toBe(true);
  });

  it.each(['review-task', 'register', 'admin'] as const)('bundles only zod/mini and its English messages where a function validates with zod (%s)', async (name) => {
    const options = esbuildBuildOptions(gatehouseEsbuildOptions(config.policy), { projectRoot: PROJECT_ROOT, entry: FUNCTIONS[name].entry, outdir: join(tmpdir(), 'unused') });
    const { metafile } = await build({ ...options, write: false, metafile: true, logLevel: 'silent' });
    // What ends up in the bundle (esbuild visits every locale the locales index names, then drops the unused ones).
    const bundled = Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
    const zodFiles = bundled.filter((path) => path.includes('node_modules/zod/'));
    expect(zodFiles.some((path) => path.includes('/v4/mini/'))).toBe(true);
    expect(zodFiles.filter((path) => path.includes('/v4/classic/'))).toEqual([]);
    expect(zodFiles.filter((path) => path.includes('/v4/locales/') && !path.endsWith('/index.js'))).toEqual(['node_modules/zod/v4/locales/en.js']);
  });

  it("gives each function's registry every operation its bundle's code names and its spec lists (and grants), so none is missing at run time", () => {
    const entries: Record<string, string> = {
      ...Object.fromEntries(Object.entries(FUNCTIONS).map(([name, spec]) => [name, spec.entry])),
      'signing-key-init': SIGNING_KEY_INIT.entry,
      'signing-key-rotation': SIGNING_KEY_ROTATION.entry,
    };
    const specs: Record<string, FunctionSpec> = { ...FUNCTIONS, 'signing-key-init': SIGNING_KEY_INIT, 'signing-key-rotation': SIGNING_KEY_ROTATION };
    const checked: string[] = [];
    for (const { name, dir } of bundles) {
      const given = operationsGivenBy(readFileSync(join(PROJECT_ROOT, entries[name]!), 'utf8'));
      if (given === undefined) continue; // no registry: awsServices gives it the absent port, which fails on any call
      expect(given.filter((operation) => !OPERATIONS.includes(operation)), name).toEqual([]);
      // The stack grants the DynamoDB actions of the operations the spec lists: the entry must give exactly those.
      const spec = specs[name]!;
      if (spec.registry) expect([...given].sort(), name).toEqual([...spec.registry].sort());
      else {
        // The signing-key rotation's own narrow grant (table:append-system-audit) must cover what its operations send.
        expect(spec.capabilities, name).toContain('table:append-system-audit');
        const { table, attentionIndex } = accessOf(given as RegistryOperationName[]);
        expect([...table.map((a) => `dynamodb:${a}`), ...attentionIndex], name).toEqual([...SYSTEM_AUDIT_ACTIONS].sort());
      }
      // Minified, the entry's own list is object keys too; anything named beyond it is a call that would fail.
      expect(operationsNamedIn(readFileSync(join(dir, 'index.mjs'), 'utf8')).filter((operation) => !given.includes(operation)), name).toEqual([]);
      checked.push(name);
    }
    // Every function with a table capability builds a registry this check could read.
    expect(checked.sort()).toEqual(
      [...Object.entries(FUNCTIONS).filter(([, spec]) => spec.capabilities.some((c) => c.startsWith('table:'))).map(([name]) => name), 'signing-key-rotation'].sort(),
    );
    // What the check reads: calls and keys count, strings do not.
    expect(operationsNamedIn('a.getConsumer(b);const{listDue:c}=d;e={operationId:"listConsumers"}')).toEqual(['getConsumer', 'listDue']);
  });

  it('loads every bundle as an ES module that exports handler', async () => {
    // Plain Node, as the Lambda runtime does (importing through vitest would transform ~1 MB bundles).
    const script = `
      const bundles = JSON.parse(process.argv[1]);
      const result = {};
      for (const { name, url } of bundles) result[name] = typeof (await import(url)).handler;
      process.stdout.write(JSON.stringify(result));`;
    const argument = JSON.stringify(bundles.map(({ name, dir }) => ({ name, url: pathToFileURL(join(dir, 'index.mjs')).href })));
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, argument], { env: { ...process.env, ...runtimeEnv } });
    expect(JSON.parse(stdout)).toEqual(Object.fromEntries(bundles.map((b) => [b.name, 'function'])));
  });
});
