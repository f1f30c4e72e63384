import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import * as dynamodb from '@aws-sdk/client-dynamodb';
// Two packages the lock file installs as dependencies of others: the Lambda client (of aws-local-stepfunctions), which
// has an event-stream operation to test the check with, and the package the endpoint-discovery alias replaces.
import * as lambdaClient from '@aws-sdk/client-lambda';
import * as discovery from '@aws-sdk/middleware-endpoint-discovery';
import { NormalizedSchema } from '@smithy/core/schema';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS, resolveEndpointDiscoveryConfig } from '../../lambdas/adapters/aws/without-endpoint-discovery.js';
import { EVENT_STREAMS_LEFT_OUT, EventStreamSerde, eventStreamSerdeProvider } from '../../lambdas/adapters/aws/without-event-streams.js';
import { startDynalite, type LocalDynamo } from '../../lambdas/adapters/local/dynalite.js';
import { BUNDLE_ALIASES, BUNDLE_FILE, esbuildBuildOptions, gatehouseEsbuildOptions } from '../../lib/bundling.js';
import { AUTHORIZER, FUNCTIONS, SIGNING_KEY_INIT, SIGNING_KEY_ROTATION } from '../../lib/functions.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';

const run = promisify(execFile);
const TABLE = 'gatehouse-probe';
const ENTRIES = [...Object.values(FUNCTIONS), SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, AUTHORIZER].map((spec) => spec.entry);

/** The input files of one bundle that put bytes into it (esbuild's metafile), with Gatehouse's options. */
async function bundledFiles(entry: string): Promise<string[]> {
  const options = esbuildBuildOptions(gatehouseEsbuildOptions(), { projectRoot: PROJECT_ROOT, entry, outdir: join(tmpdir(), 'unused') });
  const { metafile } = await build({ ...options, write: false, metafile: true, logLevel: 'silent' });
  return Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
}

/** Operations of an SDK client package whose input or output is an event stream, found as the SDK's Command finds them. */
function eventStreamOperations(client: Record<string, unknown>): string[] {
  return Object.entries(client)
    .filter(([name, schema]) => name.endsWith('$') && Array.isArray(schema) && schema[0] === 9)
    .filter(([, schema]) => {
      const [, , , , input, output] = schema as unknown[];
      return Boolean(NormalizedSchema.of(input as never).getEventStreamMember() || NormalizedSchema.of(output as never).getEventStreamMember());
    })
    .map(([name]) => name.slice(0, -1));
}

describe('bundle aliases (lib/bundling.ts)', () => {
  let files: Map<string, string[]>;

  beforeAll(async () => {
    files = new Map();
    for (const entry of ENTRIES) files.set(entry, await bundledFiles(entry));
  }, 120_000);

  it('leave event streams, the endpoint cache and Powertools Metrics out of every bundle', () => {
    for (const [entry, inputs] of files) {
      for (const part of ['@smithy/core/dist-es/submodules/event-streams/', '@aws-sdk/middleware-endpoint-discovery/', '@aws-sdk/endpoint-cache/', 'node_modules/mnemonist/', '@aws-lambda-powertools/metrics/']) {
        expect(inputs.filter((path) => path.includes(part)), `${entry}: ${part}`).toEqual([]);
      }
    }
    expect(Object.keys(BUNDLE_ALIASES).sort()).toEqual(['@aws-sdk/credential-provider-node', '@aws-sdk/middleware-endpoint-discovery', '@smithy/core/event-streams']);
  });

  it('are safe for event streams: no operation of any SDK client in a bundle has one', async () => {
    const clients = new Set([...files.values()].flatMap((inputs) => inputs.flatMap((path) => /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(path)?.[1] ?? [])));
    expect([...clients].sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager', '@aws-sdk/client-sesv2', '@aws-sdk/client-sfn']);
    for (const client of clients) {
      const module = (await import(client)) as Record<string, unknown>;
      // Every client exports its operation schemas; an empty list would mean this check looks at nothing.
      expect(Object.keys(module).filter((name) => name.endsWith('$')).length, client).toBeGreaterThan(10);
      expect(eventStreamOperations(module), client).toEqual([]);
    }
    // The same check does find one where there is one (Lambda's response streaming).
    expect(eventStreamOperations(lambdaClient)).toContain('InvokeWithResponseStream');
  });

  it('are safe for endpoint discovery: no DynamoDB command adds the discovery middleware, even with discovery enabled', () => {
    const client = new dynamodb.DynamoDBClient({ region: 'eu-west-1', endpointDiscoveryEnabled: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const stacks: string[][] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((stack: unknown) => void stacks.push(stack as string[]));
    client.middlewareStack.identifyOnResolve(true);
    // Every command class the client exports (`$Command`, the base class, is not one).
    const commands = Object.entries(dynamodb).filter(([name, value]) => /^[A-Z]\w*Command$/.test(name) && typeof value === 'function');
    try {
      for (const [, Command] of commands) {
        const command = new (Command as new (input: object) => { resolveMiddleware: (...args: unknown[]) => unknown })({});
        command.resolveMiddleware(client.middlewareStack, client.config, {});
      }
    } finally {
      log.mockRestore();
      client.destroy();
    }
    expect(commands.length).toBeGreaterThan(50);
    expect(stacks).toHaveLength(commands.length);
    for (const stack of stacks) {
      expect(stack).toContain('endpointV2Middleware - serialize');
      expect(stack.filter((name) => /discovery/i.test(name))).toEqual([]);
    }
  });

  it('resolve the endpoint-discovery settings by the package’s own rules, without its unused cache', () => {
    const environments = [{}, { AWS_ENABLE_ENDPOINT_DISCOVERY: 'true' }, { AWS_ENABLE_ENDPOINT_DISCOVERY: '0' }, { AWS_ENDPOINT_DISCOVERY_ENABLED: 'false' }, { AWS_ENDPOINT_DISCOVERY_ENABLED: 'yes' }, { AWS_ENABLE_ENDPOINT_DISCOVERY: '' }];
    const profiles = [{}, { endpoint_discovery_enabled: 'true' }, { endpoint_discovery_enabled: 'false' }, { endpoint_discovery_enabled: undefined }];
    const outcome = (f: () => unknown) => {
      try {
        return { value: f() };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    for (const env of environments) {
      expect(outcome(() => NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector(env)), JSON.stringify(env)).toEqual(outcome(() => discovery.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector(env)));
    }
    for (const profile of profiles) {
      expect(outcome(() => NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.configFileSelector(profile)), JSON.stringify(profile)).toEqual(outcome(() => discovery.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.configFileSelector(profile)));
    }
    expect(NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.default).toBe(discovery.NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.default);

    const provider = () => Promise.resolve(undefined);
    for (const input of [{ endpointDiscoveryEnabledProvider: provider }, { endpointDiscoveryEnabled: true, endpointDiscoveryEnabledProvider: provider }]) {
      const ours = resolveEndpointDiscoveryConfig({ ...input }, { endpointDiscoveryCommandCtor: dynamodb.DescribeEndpointsCommand });
      const resolved: Record<string, unknown> = discovery.resolveEndpointDiscoveryConfig({ ...input } as never, { endpointDiscoveryCommandCtor: dynamodb.DescribeEndpointsCommand as never });
      const { endpointCache, ...theirs } = resolved;
      expect(endpointCache).toBeDefined();
      expect({ ...ours, endpointDiscoveryEnabled: typeof ours.endpointDiscoveryEnabled }).toEqual({ ...theirs, endpointDiscoveryEnabled: typeof theirs.endpointDiscoveryEnabled });
      expect(ours.endpointDiscoveryEnabled === provider).toBe(theirs.endpointDiscoveryEnabled === provider);
    }
  });

  it('fail an event-stream call at once with a clear error', () => {
    expect(() => new EventStreamSerde()).toThrow(EVENT_STREAMS_LEFT_OUT);
    expect(() => eventStreamSerdeProvider()).toThrow(EVENT_STREAMS_LEFT_OUT);
  });
});

describe('an SDK bundle built with the aliases', () => {
  let dynamo: LocalDynamo;
  let secrets: Server;
  const secretsCalls: Array<{ target: string | undefined; headers: IncomingHttpHeaders; body: string }> = [];
  let outdir: string;

  beforeAll(async () => {
    dynamo = await startDynalite({ tableName: TABLE });
    secrets = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        secretsCalls.push({ target: request.headers['x-amz-target'] as string | undefined, headers: request.headers, body });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe-secret', Name: 'probe-secret', SecretString: 's3cret', VersionId: 'v-1' }));
      });
    });
    await new Promise<void>((resolve) => secrets.listen(0, '127.0.0.1', resolve));
    outdir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-probe-'));
    await build({ ...esbuildBuildOptions(gatehouseEsbuildOptions(), { projectRoot: PROJECT_ROOT, entry: 'test/lib/fixtures/sdk-probe.ts', outdir }), logLevel: 'silent' });
  }, 60_000);

  afterAll(async () => {
    await dynamo?.close();
    await new Promise<void>((resolve) => secrets?.close(() => resolve()));
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('reads and writes DynamoDB (with a transaction and a failed condition) and reads a secret, signing with the role credentials of the environment', async () => {
    const options = { table: TABLE, dynamoEndpoint: dynamo.endpoint, secretsEndpoint: `http://127.0.0.1:${(secrets.address() as AddressInfo).port}` };
    const script = `const { probe } = await import(process.argv[1]); process.stdout.write(JSON.stringify(await probe(JSON.parse(process.argv[2]))));`;
    // A Lambda-like environment: the role's credentials in variables, nothing else to find them from.
    const env = { PATH: process.env['PATH'], HOME: mkdtempSync(join(tmpdir(), 'no-aws-home-')), AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIAPROBEROLE', AWS_SECRET_ACCESS_KEY: 'probe-secret-key', AWS_SESSION_TOKEN: 'probe-session' };
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, pathToFileURL(join(outdir, BUNDLE_FILE)).href, JSON.stringify(options)], { env });

    expect(JSON.parse(stdout)).toEqual({ item: { pk: 'PROBE#1', sk: 'PROBE', count: 2 }, conditionFailure: 'ConditionalCheckFailedException', secretString: 's3cret', versionId: 'v-1' });
    expect(secretsCalls).toHaveLength(1);
    expect(secretsCalls[0]!.target).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(secretsCalls[0]!.body)).toEqual({ SecretId: 'probe-secret' });
    expect(secretsCalls[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAPROBEROLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(secretsCalls[0]!.headers['x-amz-security-token']).toBe('probe-session');
  });
});
