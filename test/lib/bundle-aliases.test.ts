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
// Installed with SES v2, which imports it; the sigv4-only alias replaces it in bundles.
import * as multiRegion from '@aws-sdk/signature-v4-multi-region';
import { Sha256 } from '@smithy/core/checksum';
import { NormalizedSchema } from '@smithy/core/schema';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS, resolveEndpointDiscoveryConfig } from '../../lambdas/adapters/aws/without-endpoint-discovery.js';
import { EVENT_STREAMS_LEFT_OUT, EventStreamSerde, eventStreamSerdeProvider } from '../../lambdas/adapters/aws/without-event-streams.js';
import { Sha256 as NativeSha256 } from '../../lambdas/adapters/aws/native-sha256.js';
import { SIGV4A_LEFT_OUT, SignatureV4MultiRegion } from '../../lambdas/adapters/aws/sigv4-only.js';
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

  it('leave event streams, the endpoint cache, the multi-region signer, the pure-JS SHA-256 and Powertools Metrics out of every bundle', () => {
    for (const [entry, inputs] of files) {
      for (const part of ['@smithy/core/dist-es/submodules/event-streams/', '@aws-sdk/middleware-endpoint-discovery/', '@aws-sdk/endpoint-cache/', 'node_modules/mnemonist/', '@aws-sdk/signature-v4-multi-region/', '@smithy/core/dist-es/submodules/checksum/', '@aws-lambda-powertools/metrics/']) {
        expect(inputs.filter((path) => path.includes(part)), `${entry}: ${part}`).toEqual([]);
      }
    }
    expect(Object.keys(BUNDLE_ALIASES).sort()).toEqual(['@aws-sdk/credential-provider-node', '@aws-sdk/middleware-endpoint-discovery', '@aws-sdk/signature-v4-multi-region', '@smithy/core/checksum', '@smithy/core/event-streams']);
  });

  it('hash and HMAC with SHA-256 as the SDK’s checksum module does', async () => {
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    const encode = (text: string) => new TextEncoder().encode(text);
    const [first, second, more] = [encode('GET\n/\n\nhost:example.com\n'), encode('bytes ünïcode'), encode('more')];
    for (const secret of [undefined, '', 'key', new Uint8Array([1, 2, 3]), new Uint8Array([9, 8, 7, 6]).subarray(1, 3), new Uint8Array([4, 5]).buffer]) {
      const label = secret === undefined ? 'hash' : `HMAC ${Object.prototype.toString.call(secret)} ${String(secret)}`;
      const ours = new NativeSha256(secret);
      const theirs = new Sha256(secret);
      expect(ours.digestLength).toBe(theirs.digestLength);
      for (const checksum of [ours, theirs]) {
        checksum.update(first);
        checksum.update(second);
      }
      expect(hex(await ours.digest()), label).toBe(hex(await theirs.digest()));
      const updateBoth = () => {
        ours.update(more);
        theirs.update(more);
      };
      // A plain hash goes on after a digest; an HMAC refuses, in both.
      if (secret === undefined || secret === '') {
        updateBoth();
        expect(hex(await ours.digest()), label).toBe(hex(await theirs.digest()));
      } else {
        expect(() => ours.update(more), label).toThrow('Attempted to update an already finished hash.');
        expect(() => theirs.update(more), label).toThrow('Attempted to update an already finished hash.');
      }
      ours.reset();
      theirs.reset();
      updateBoth();
      expect(hex(await ours.digest()), `${label} after reset`).toBe(hex(await theirs.digest()));
    }
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

  it('sign a request as the multi-region signer does for one region, byte for byte', async () => {
    const options = { credentials: { accessKeyId: 'AKIDPROBE', secretAccessKey: 'probe-secret', sessionToken: 'probe-session' }, region: 'eu-west-1', service: 'ses', sha256: Sha256 };
    const request = () => ({
      method: 'POST',
      protocol: 'https:',
      hostname: 'email.eu-west-1.amazonaws.com',
      path: '/v2/email/outbound-emails',
      query: { a: 'b c' },
      headers: { 'content-type': 'application/json', host: 'email.eu-west-1.amazonaws.com' },
      body: '{"FromEmailAddress":"gatehouse@bank.example"}',
    });
    for (const signing of [{ signingDate: new Date('2026-11-25T10:00:00Z') }, { signingDate: new Date('2026-11-25T10:00:00Z'), signingRegion: 'eu-central-1', signingService: 'email' }]) {
      // The bundle signs with both replacements: the SigV4 signer here and the native SHA-256 there.
      const ours = await new SignatureV4MultiRegion({ ...options, sha256: NativeSha256 }).sign(request(), signing);
      const theirs = await new multiRegion.SignatureV4MultiRegion({ ...options, runtime: 'node' }).sign(request(), signing);
      expect(ours.headers, JSON.stringify(signing)).toEqual(theirs.headers);
      expect(ours.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDPROBE\/20261125\//);
      const presigned = await new SignatureV4MultiRegion(options).presign(request(), { ...signing, expiresIn: 300 });
      expect(presigned.query).toEqual((await new multiRegion.SignatureV4MultiRegion({ ...options, runtime: 'node' }).presign(request(), { ...signing, expiresIn: 300 })).query);
    }
  });

  it('report no SigV4a implementation, as the package does without one loaded, and refuse the multi-region region', async () => {
    // SES v2's auth-scheme resolver asks this before it prefers SigV4 over SigV4a.
    expect(SignatureV4MultiRegion.sigv4aDependency()).toBe(multiRegion.SignatureV4MultiRegion.sigv4aDependency());
    const options = { credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, region: 'eu-west-1', service: 'ses', sha256: Sha256 };
    const request = { method: 'POST', protocol: 'https:', hostname: 'email.amazonaws.com', path: '/', query: {}, headers: { host: 'email.amazonaws.com' } };
    await expect(new SignatureV4MultiRegion(options).sign({ ...request }, { signingRegion: '*' })).rejects.toThrow(SIGV4A_LEFT_OUT);
    await expect(new SignatureV4MultiRegion(options).presign({ ...request }, { signingRegion: '*' })).rejects.toThrow(SIGV4A_LEFT_OUT);
    // The package itself can only fail there too: no SigV4a implementation is installed.
    await expect(new multiRegion.SignatureV4MultiRegion({ ...options, runtime: 'node' }).sign({ ...request }, { signingRegion: '*' })).rejects.toThrow(/SigV4a implementation is available/);
  });

  it('fail an event-stream call at once with a clear error', () => {
    expect(() => new EventStreamSerde()).toThrow(EVENT_STREAMS_LEFT_OUT);
    expect(() => eventStreamSerdeProvider()).toThrow(EVENT_STREAMS_LEFT_OUT);
  });
});

describe('an SDK bundle built with the aliases', () => {
  let dynamo: LocalDynamo;
  let scriptedAws: Server;
  const secretsCalls: Array<{ target: string | undefined; headers: IncomingHttpHeaders; body: string }> = [];
  const sesCalls: Array<{ method: string | undefined; url: string; headers: IncomingHttpHeaders; body: string }> = [];
  let outdir: string;

  beforeAll(async () => {
    dynamo = await startDynalite({ tableName: TABLE });
    // One scripted endpoint for Secrets Manager (JSON RPC) and SES v2 (REST: POST /v2/email/outbound-emails).
    scriptedAws = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        if (request.url?.startsWith('/v2/email/')) {
          sesCalls.push({ method: request.method, url: request.url, headers: request.headers, body });
          const rejected = body.includes('unverified@');
          response.writeHead(rejected ? 400 : 200, { 'content-type': 'application/json', ...(rejected ? { 'x-amzn-errortype': 'MessageRejected' } : {}) });
          response.end(JSON.stringify(rejected ? { message: 'Email address is not verified.' } : { MessageId: 'probe-message-1' }));
          return;
        }
        secretsCalls.push({ target: request.headers['x-amz-target'] as string | undefined, headers: request.headers, body });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify({ ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:probe-secret', Name: 'probe-secret', SecretString: 's3cret', VersionId: 'v-1' }));
      });
    });
    await new Promise<void>((resolve) => scriptedAws.listen(0, '127.0.0.1', resolve));
    outdir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-probe-'));
    await build({ ...esbuildBuildOptions(gatehouseEsbuildOptions(), { projectRoot: PROJECT_ROOT, entry: 'test/lib/fixtures/sdk-probe.ts', outdir }), logLevel: 'silent' });
  }, 60_000);

  afterAll(async () => {
    await dynamo?.close();
    await new Promise<void>((resolve) => scriptedAws?.close(() => resolve()));
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('reads and writes DynamoDB (with a transaction and a failed condition), reads a secret and sends mail, signing with the role credentials of the environment', async () => {
    const scripted = `http://127.0.0.1:${(scriptedAws.address() as AddressInfo).port}`;
    const options = { table: TABLE, dynamoEndpoint: dynamo.endpoint, secretsEndpoint: scripted, sesEndpoint: scripted };
    const script = `const { probe } = await import(process.argv[1]); process.stdout.write(JSON.stringify(await probe(JSON.parse(process.argv[2]))));`;
    // A Lambda-like environment: the role's credentials in variables, nothing else to find them from.
    const env = { PATH: process.env['PATH'], HOME: mkdtempSync(join(tmpdir(), 'no-aws-home-')), AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'ASIAPROBEROLE', AWS_SECRET_ACCESS_KEY: 'probe-secret-key', AWS_SESSION_TOKEN: 'probe-session' };
    const { stdout } = await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, pathToFileURL(join(outdir, BUNDLE_FILE)).href, JSON.stringify(options)], { env });

    expect(JSON.parse(stdout)).toEqual({
      item: { pk: 'PROBE#1', sk: 'PROBE', count: 2 },
      conditionFailure: 'ConditionalCheckFailedException',
      secretString: 's3cret',
      versionId: 'v-1',
      messageId: 'probe-message-1',
      mailFailure: 'MessageRejected',
    });
    expect(secretsCalls).toHaveLength(1);
    expect(secretsCalls[0]!.target).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(secretsCalls[0]!.body)).toEqual({ SecretId: 'probe-secret' });
    expect(secretsCalls[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAPROBEROLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/);
    expect(secretsCalls[0]!.headers['x-amz-security-token']).toBe('probe-session');
    expect(sesCalls.map((call) => `${call.method} ${call.url}`)).toEqual(['POST /v2/email/outbound-emails', 'POST /v2/email/outbound-emails']);
    expect(JSON.parse(sesCalls[0]!.body)).toEqual({
      FromEmailAddress: 'gatehouse@bank.example',
      Destination: { ToAddresses: ['reviewer@bank.example'] },
      Content: { Simple: { Subject: { Data: 'Probe', Charset: 'UTF-8' }, Body: { Text: { Data: 'Hello', Charset: 'UTF-8' } } } },
    });
    expect(sesCalls[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAPROBEROLE\/\d{8}\/eu-west-1\/ses\/aws4_request/);
    expect(sesCalls[0]!.headers['x-amz-security-token']).toBe('probe-session');
  });
});
