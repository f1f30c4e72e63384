import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ALIASES, BUNDLE_FILE, esbuildBuildOptions, gatehouseEsbuildOptions } from '../../lib/bundling.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import {
  ADAPTIVE_RETRY_REFUSED,
  INSTANCE_METADATA_REGION_MODULE,
  RETRY_CONFIG_MODULE,
  SHARED_CONFIG_FILES_MODULE,
  sdkLambdaOnly,
  standardRetryOnly,
} from '../../lib/sdk-lambda-only.js';
import { sdkTreeShaking } from '../../lib/sdk-tree-shaking.js';

const run = promisify(execFile);
const CORE = join(PROJECT_ROOT, 'node_modules/@smithy/core/dist-es');
const REWRITTEN = { region: INSTANCE_METADATA_REGION_MODULE, sharedConfig: SHARED_CONFIG_FILES_MODULE, retry: RETRY_CONFIG_MODULE };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/** The one installed module each rewrite applies to. */
const installed = Object.fromEntries(Object.entries(REWRITTEN).map(([name, pattern]) => [name, filesUnder(CORE).filter((file) => pattern.test(file))])) as Record<keyof typeof REWRITTEN, string[]>;

describe('sdkLambdaOnly on the installed SDK core', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-lambda-only-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `module` bundled on its own (its exports re-exported), with or without the plugin, and imported. */
  async function load(module: string, plugins: Plugin[], name: string): Promise<Record<string, unknown>> {
    const result = await build({ stdin: { contents: `export * from ${JSON.stringify(module)};`, resolveDir: PROJECT_ROOT, loader: 'js' }, bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'silent', plugins });
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, result.outputFiles[0]!.text);
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }

  /** Runs `body` with environment variables set (undefined: unset), restoring them after. */
  async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const apply = (values: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(values)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    };
    apply(vars);
    try {
      return await body();
    } finally {
      apply(saved);
    }
  }

  it('applies each rewrite to exactly one installed module', () => {
    for (const [name, files] of Object.entries(installed)) expect(files.map((f) => f.slice(CORE.length)), name).toHaveLength(1);
  });

  it('keeps the exports of every module it rewrites', async () => {
    for (const [name, [module]] of Object.entries(installed)) {
      const before = await load(module!, [], `${name}-before`);
      const after = await load(module!, [sdkLambdaOnly()], `${name}-after`);
      expect(Object.keys(after).sort(), name).toEqual(Object.keys(before).sort());
    }
  });

  it('region: finds none, as the SDK\'s module does with AWS_EC2_METADATA_DISABLED (Lambda has no instance metadata service)', async () => {
    type Lookup = { getInstanceMetadataRegion: () => Promise<string | undefined> };
    const original = (await load(installed.region[0]!, [], 'region-original')) as unknown as Lookup;
    const rewritten = (await load(installed.region[0]!, [sdkLambdaOnly()], 'region-rewritten')) as unknown as Lookup;
    await expect(withEnv({ AWS_EC2_METADATA_DISABLED: 'true' }, () => original.getInstanceMetadataRegion())).resolves.toBeUndefined();
    // Nothing to disable: it never leaves the process (an IMDS endpoint that would answer is not asked).
    await expect(withEnv({ AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' }, () => rewritten.getInstanceMetadataRegion())).resolves.toBeUndefined();
  });

  it('shared config: finds nothing, with the error the SDK\'s provider throws where the files do not exist, so the default applies', async () => {
    type Provider = { fromSharedConfigFiles: (select: (profile: Record<string, string>) => string | undefined) => () => Promise<string> };
    const original = (await load(installed.sharedConfig[0]!, [], 'shared-original')) as unknown as Provider;
    const rewritten = (await load(installed.sharedConfig[0]!, [sdkLambdaOnly()], 'shared-rewritten')) as unknown as Provider;
    const home = mkdtempSync(join(dir, 'home-'));
    const configFile = join(home, 'config');
    const select = (profile: Record<string, string>) => profile['region'];
    const missing = { AWS_CONFIG_FILE: join(home, 'absent-config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'absent-credentials'), AWS_PROFILE: undefined };
    const notFound = { name: 'CredentialsProviderError', tryNextLink: true };
    await expect(withEnv(missing, () => original.fromSharedConfigFiles(select)())).rejects.toMatchObject(notFound);
    await expect(withEnv(missing, () => rewritten.fromSharedConfigFiles(select)())).rejects.toMatchObject(notFound);
    // Where a file does exist, the SDK reads it and the bundle does not.
    writeFileSync(configFile, '[default]\nregion = xx-config-1\n');
    const present = { ...missing, AWS_CONFIG_FILE: configFile };
    await expect(withEnv(present, () => original.fromSharedConfigFiles(select)())).resolves.toBe('xx-config-1');
    await expect(withEnv(present, () => rewritten.fromSharedConfigFiles(select)())).rejects.toMatchObject(notFound);
  });

  it('retry: replaces the adaptive branch with a refusal and refuses a module that changed shape', () => {
    const source = readFileSync(installed.retry[0]!, 'utf8');
    const rewritten = standardRetryOnly(source);
    expect(source).toContain('new AdaptiveRetryStrategy(');
    expect(rewritten).not.toContain('AdaptiveRetryStrategy');
    expect(rewritten).toContain('new StandardRetryStrategy(');
    expect(rewritten).toContain(JSON.stringify(ADAPTIVE_RETRY_REFUSED));
    expect(() => standardRetryOnly(source.replace('new AdaptiveRetryStrategy(', 'new OtherStrategy('))).toThrow(/no longer builds AdaptiveRetryStrategy/);
  });

  it('drops the code it stands for from a bundle (with the module aliases): about 7 KB of every function that calls AWS', async () => {
    const entry = "import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager'; export const get = (c) => new SecretsManagerClient(c).send(new GetSecretValueCommand({ SecretId: 'x' }));";
    const bundle = async (plugins: Plugin[]) =>
      (
        await build({
          stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'js' },
          ...{ bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], minify: true, write: false, logLevel: 'silent' },
          alias: { ...BUNDLE_ALIASES },
          plugins,
        })
      ).outputFiles[0]!.text;
    const without = await bundle([sdkTreeShaking()]);
    const withPlugin = await bundle([sdkTreeShaking(), sdkLambdaOnly()]);
    // The IMDS address, the adaptive strategy's rate limiter, the shared config files' directory.
    for (const code of ['169.254.169.254', 'scaleConstant', '".aws"']) {
      expect(without.includes(code), code).toBe(true);
      expect(withPlugin.includes(code), code).toBe(false);
    }
    expect(without.length - withPlugin.length).toBeGreaterThan(6_000);
  }, 60_000);
});

describe('an SDK bundle built with the Lambda-only rewrites', () => {
  let server: Server;
  let outdir: string;
  let failuresLeft = 0;
  /** Every request the scripted endpoint received, by path (an IMDS lookup would ask for `/latest/api/token`). */
  const paths: string[] = [];
  const lambdaEnv = (extra: Record<string, string> = {}) => ({
    PATH: process.env['PATH'],
    HOME: mkdtempSync(join(tmpdir(), 'no-aws-home-')),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIAPROBEROLE',
    AWS_SECRET_ACCESS_KEY: 'probe-secret-key',
    AWS_SESSION_TOKEN: 'probe-session',
    ...extra,
  });

  beforeAll(async () => {
    // Secrets Manager that fails with a 500 `failuresLeft` times, then answers.
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        paths.push(request.url ?? '');
        const fail = failuresLeft > 0;
        failuresLeft -= fail ? 1 : 0;
        response.writeHead(fail ? 500 : 200, { 'content-type': 'application/x-amz-json-1.1', ...(fail ? { 'x-amzn-errortype': 'InternalServiceError' } : {}) });
        response.end(JSON.stringify(fail ? { message: 'try again' } : { ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe-secret', Name: 'probe-secret', SecretString: 's3cret' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    outdir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-lambda-probe-'));
    await build({ ...esbuildBuildOptions(gatehouseEsbuildOptions(), { projectRoot: PROJECT_ROOT, entry: 'test/lib/fixtures/sdk-lambda-probe.ts', outdir }), logLevel: 'silent' });
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  async function probe(env: Record<string, string | undefined>): Promise<Record<string, unknown>> {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const script = `const { probe } = await import(process.argv[1]); process.stdout.write(JSON.stringify(await probe(JSON.parse(process.argv[2]))));`;
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, pathToFileURL(join(outdir, BUNDLE_FILE)).href, JSON.stringify({ endpoint })], { env });
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  it('takes the region from AWS_REGION and still retries in the standard mode', async () => {
    failuresLeft = 2;
    expect(await probe(lambdaEnv())).toEqual({ secretString: 's3cret', attempts: 3, region: 'eu-west-1' });
  });

  it('fails with the SDK\'s own error when AWS_REGION is missing, reading no config file and asking no metadata service', async () => {
    const home = mkdtempSync(join(tmpdir(), 'aws-home-'));
    writeFileSync(join(home, 'config'), '[default]\nregion = xx-config-1\n');
    // An instance metadata service is offered (the scripted endpoint), as the SDK would find one on EC2.
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { AWS_REGION: _region, ...env } = lambdaEnv({ AWS_CONFIG_FILE: join(home, 'config'), AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint });
    paths.length = 0;
    const result = await probe(env);
    expect(result).toMatchObject({ error: 'Error', message: 'Region is missing' });
    expect(paths).toEqual([]); // no metadata lookup, and no call to the service without a region
  });

  it('refuses the adaptive retry mode with a clear error instead of retrying otherwise', async () => {
    failuresLeft = 0;
    expect(await probe(lambdaEnv({ AWS_RETRY_MODE: 'adaptive' }))).toMatchObject({ message: ADAPTIVE_RETRY_REFUSED });
  });
});
