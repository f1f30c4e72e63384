import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildBuildOptions, gatehouseEsbuildOptions } from '../../lib/bundling.js';
import {
  DOCUMENT_CLIENT_PAGINATOR,
  literalSchemaKeys,
  purePaginators,
  SDK_CLIENT_PACKAGE_JSON,
  SDK_SCHEMA_MODULE,
  sdkTreeShaking,
  versionOnlyPackageJson,
  withoutPlainErrorRegistrations,
} from '../../lib/sdk-tree-shaking.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';
import type { ProbedClient, ThrownError } from './fixtures/sdk-error-probe.js';

const SDK_DIR = join(PROJECT_ROOT, 'node_modules/@aws-sdk');
/** Every AWS SDK client package installed (the four Gatehouse bundles, and the Lambda client local mode pulls in). */
const CLIENTS = readdirSync(SDK_DIR).filter((name) => name.startsWith('client-'));
const schemaModules = (client: string): string[] =>
  readdirSync(join(SDK_DIR, client, 'dist-es/schemas'))
    .filter((file) => /^schemas_\d+\.js$/.test(file))
    .map((file) => join(SDK_DIR, client, 'dist-es/schemas', file));

/**
 * A value as plain data, comparable across two module instances: lazy schema references (`() => X$`) are followed,
 * classes are named, and an object seen before becomes a reference to its first visit (schemas are cyclic).
 */
function shape(value: unknown, seen = new Map<object, number>()): unknown {
  if (typeof value === 'function') {
    if (/^class[\s{]/.test(Function.prototype.toString.call(value))) return `class ${value.name}`;
    return value.length === 0 ? { thunk: shape((value as () => unknown)(), seen) } : `function ${value.name}/${value.length}`;
  }
  if (value === null || typeof value !== 'object') return value;
  const first = seen.get(value);
  if (first !== undefined) return { ref: first };
  seen.set(value, seen.size);
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [shape(k, seen), shape(v, seen)]) };
  if (Array.isArray(value)) return value.map((item) => shape(item, seen));
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return { of: prototype?.constructor?.name, entries: Object.entries(value).map(([k, v]) => [k, shape(v, seen)]) };
}

/** The plugin's first two rewrites only (literal schema keys, package.json version), without the error-registry one. */
const keysAndVersionOnly: Plugin = {
  name: 'sdk-tree-shaking-keys-and-version-only',
  setup(b) {
    b.onLoad({ filter: SDK_SCHEMA_MODULE }, ({ path }) => ({ contents: literalSchemaKeys(readFileSync(path, 'utf8')), loader: 'js' }));
    b.onLoad({ filter: SDK_CLIENT_PACKAGE_JSON }, ({ path }) => ({ contents: versionOnlyPackageJson(readFileSync(path, 'utf8')), loader: 'json' }));
  },
};

describe('literalSchemaKeys', () => {
  it('writes a computed key naming a string constant of the module as that literal', () => {
    const source = ['const _h = "http";', 'const _e = "error";', 'export var Op$ = [9, n0, _O, { [_h]: ["POST", "/a", 200] }, () => In$];', 'export var E$ = [-3, n0, _E, { [_e]: _c, [_hE]: 400 }];'].join('\n');

    expect(literalSchemaKeys(source)).toBe(
      ['const _h = "http";', 'const _e = "error";', 'export var Op$ = [9, n0, _O, { "http": ["POST", "/a", 200] }, () => In$];', 'export var E$ = [-3, n0, _E, { "error": _c, [_hE]: 400 }];'].join('\n'),
    );
  });

  it('leaves a key computed when its value is __proto__, which as a literal would set the prototype', () => {
    const source = 'const _p = "__proto__";\nexport var X = { [_p]: 1 };';
    expect(literalSchemaKeys(source)).toBe(source);
    expect(Object.keys(new Function(`${source.replace('export ', '')}; return X;`)() as object)).toEqual(['__proto__']);
  });
});

describe('versionOnlyPackageJson', () => {
  it('keeps the version, the one field the clients read, and refuses a package.json without one', () => {
    expect(JSON.parse(versionOnlyPackageJson(JSON.stringify({ name: '@aws-sdk/client-x', version: '3.1.0', scripts: { build: 'x' } })))).toEqual({ version: '3.1.0' });
    expect(() => versionOnlyPackageJson('{"name":"x"}')).toThrow('SDK client package.json has no version');
  });
});

describe('withoutPlainErrorRegistrations', () => {
  const constants = ['const _c = "client";', 'const _se = "server";', 'const _m = "message";', 'const _M = "Message";', 'const _CR = "CancellationReasons";'];
  const schema = (name: string, traits: string, members: string, types = '[0]'): string =>
    [`export var ${name}$ = [-3, n0, _${name},`, `    ${traits},`, `    ${members},`, `    ${types}`, '];', `n0_registry.registerError(${name}$, ${name});`].join('\n');
  const errorClass = (name: string, extra: { field?: string; body?: string } = {}): string =>
    [
      `export class ${name} extends __BaseException {`,
      `    static shapeId = "com.amazonaws.probe#${name}";`,
      `    name = "${name}";`,
      '    $fault = "client";',
      ...(extra.field ? [extra.field] : []),
      '    constructor(opts) {',
      '        super({',
      `            name: "${name}",`,
      '            $fault: "client",',
      '            ...opts,',
      '        });',
      `        Object.setPrototypeOf(this, ${name}.prototype);`,
      ...(extra.body ? [extra.body] : []),
      '    }',
      '}',
    ].join('\n');

  it('drops the registration of a plain client error, keeping its schema and every other registration', () => {
    const source = [
      ...constants,
      schema('Plain', '{ "error": _c }', '[_m]'),
      schema('WithStatus', '{ "error": _c, "httpError": 404 }', '[_m]'),
      schema('CopiesMessage', '{ "error": _c }', '[_M]'),
      schema('ServerFault', '{ "error": _se }', '[_m]'),
      schema('QueryCompatible', '{ "awsQueryError": [`Throttling`, 400], "error": _c, "httpError": 400 }', '[_m]'),
      schema('WithMembers', '{ "error": _c }', '[_M, _CR]', '[0, () => CancellationReasonList]'),
      schema('Retryable', '{ "error": _c }', '[_m]'),
      schema('ClassDiffers', '{ "error": _c }', '[_m]'),
      schema('NoClass', '{ "error": _c }', '[_m]'),
    ].join('\n');
    const errors = [
      'import { ProbeServiceException as __BaseException } from "./ProbeServiceException";',
      ...['Plain', 'WithStatus', 'ServerFault', 'QueryCompatible'].map((name) => errorClass(name)),
      errorClass('CopiesMessage', { field: '    Message;', body: '        this.Message = opts.Message;' }),
      errorClass('WithMembers', { field: '    Message;\n    CancellationReasons;', body: '        this.Message = opts.Message;\n        this.CancellationReasons = opts.CancellationReasons;' }),
      errorClass('Retryable', { field: '    $retryable = {};' }),
      errorClass('ClassDiffers', { body: '        this.extra = 1;' }),
    ].join('\n');

    const { source: rewritten, dropped } = withoutPlainErrorRegistrations(source, errors);

    expect(dropped).toEqual(['Plain', 'WithStatus', 'CopiesMessage']);
    for (const name of dropped) {
      expect(rewritten).toContain(`export var ${name}$ = [-3, n0, _${name},`);
      expect(rewritten).not.toContain(`registerError(${name}$`);
    }
    for (const name of ['ServerFault', 'QueryCompatible', 'WithMembers', 'Retryable', 'ClassDiffers', 'NoClass']) expect(rewritten).toContain(`n0_registry.registerError(${name}$, ${name});`);
    expect(withoutPlainErrorRegistrations(source, '')).toEqual({ source, dropped: [] });
  });
});

describe('sdkTreeShaking on the installed SDK clients', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-tree-shaking-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `module` bundled on its own (its exports re-exported), with or without the plugin, and imported. */
  async function load(module: string, plugins: Plugin[], name: string): Promise<Record<string, unknown>> {
    const result = await build({
      stdin: { contents: `export * from ${JSON.stringify(module)};`, resolveDir: PROJECT_ROOT, loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      write: false,
      logLevel: 'silent',
      plugins,
    });
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, result.outputFiles[0]!.text);
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  }

  it('matches the schema modules and package.json of every installed client', () => {
    expect(CLIENTS).toEqual(expect.arrayContaining(['client-dynamodb', 'client-secrets-manager', 'client-sesv2', 'client-sfn']));
    for (const client of CLIENTS) {
      expect(schemaModules(client).length, client).toBeGreaterThan(0);
      for (const module of schemaModules(client)) expect(SDK_SCHEMA_MODULE.test(module), module).toBe(true);
      expect(SDK_CLIENT_PACKAGE_JSON.test(join(SDK_DIR, client, 'package.json')), client).toBe(true);
    }
    expect(SDK_SCHEMA_MODULE.test(join(SDK_DIR, 'core/dist-es/submodules/protocols/schemas_0.js'))).toBe(false);
  });

  it('leaves every value a schema module exports as it was (the error registries aside, tested below)', async () => {
    let rewritten = 0;
    for (const client of CLIENTS) {
      for (const module of schemaModules(client)) {
        const source = readFileSync(module, 'utf8');
        if (literalSchemaKeys(source) !== source) rewritten += 1;
        const name = `${client}-${module.split('/').pop()!.replace('.js', '')}`;
        const before = await load(module, [], `${name}-before`);
        const after = await load(module, [keysAndVersionOnly], `${name}-after`);
        expect(shape(after), module).toEqual(shape(before));
        // The error-registry rewrite removes registrations, never an export.
        expect(Object.keys(await load(module, [sdkTreeShaking()], `${name}-full`)).sort(), module).toEqual(Object.keys(before).sort());
      }
    }
    // REST clients (SES v2, Lambda) have computed HTTP-binding keys; the check above would pass vacuously without them.
    expect(rewritten).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('lets esbuild drop the operations a function does not call: SES v2 keeps SendEmail only', async () => {
    const entry = "import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2'; export const send = (c) => new SESv2Client(c).send(new SendEmailCommand({}));";
    const bundle = async (plugins: Plugin[]): Promise<string> =>
      (await build({ stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'js' }, bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], minify: true, write: false, logLevel: 'silent', plugins }))
        .outputFiles[0]!.text;
    const without = await bundle([]);
    const withPlugin = await bundle([sdkTreeShaking()]);

    expect(without).toContain('/v2/email/dedicated-ip-pools');
    expect(withPlugin).not.toContain('/v2/email/dedicated-ip-pools');
    expect(withPlugin).toContain('/v2/email/outbound-emails');
    expect(without.length - withPlugin.length).toBeGreaterThan(40_000);
  }, 60_000);

  it('is safe for package.json: every client module that imports it reads only its version', () => {
    let importers = 0;
    for (const client of CLIENTS) {
      const files = readdirSync(join(SDK_DIR, client, 'dist-es'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js'));
      for (const file of files) {
        const source = readFileSync(join(SDK_DIR, client, 'dist-es', file), 'utf8');
        const binding = /import (\w+) from "\.\.\/package\.json";/.exec(source)?.[1];
        if (!source.includes('package.json')) continue;
        expect(binding, `${client}/${file} imports package.json another way`).toBeDefined();
        importers += 1;
        const uses = [...source.matchAll(new RegExp(`\\b${binding}\\b(\\.\\w+)?`, 'g'))].map((match) => match[1] ?? '(import)');
        expect(new Set(uses), `${client}/${file}`).toEqual(new Set(['(import)', '.version']));
      }
    }
    expect(importers).toBeGreaterThanOrEqual(CLIENTS.length);
  });
});

describe('purePaginators (the DynamoDB document client)', () => {
  const PAGINATION_DIR = join(SDK_DIR, 'lib-dynamodb/dist-es/pagination');
  const paginators = readdirSync(PAGINATION_DIR)
    .filter((file) => DOCUMENT_CLIENT_PAGINATOR.test(join(PAGINATION_DIR, file)))
    .map((file) => join(PAGINATION_DIR, file));

  /** The document-client modules a minified bundle of `entry` keeps code from (esbuild's metafile). */
  async function keptModules(entry: string, plugins: Plugin[]): Promise<string[]> {
    const { metafile } = await build({
      stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'js' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      minify: true,
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins,
    });
    return Object.values(metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([path, input]) => input.bytesInOutput > 0 && path.includes('lib-dynamodb/'))
        .map(([path]) => path.split('lib-dynamodb/dist-es/')[1]!),
    );
  }

  it('marks the createPaginator call pure and refuses a module that no longer makes one', () => {
    expect(purePaginators('export const paginateQuery = createPaginator(A, B, "ExclusiveStartKey", "LastEvaluatedKey", "Limit");\n')).toBe(
      'export const paginateQuery = /* @__PURE__ */ createPaginator(A, B, "ExclusiveStartKey", "LastEvaluatedKey", "Limit");\n',
    );
    expect(() => purePaginators('export const paginateQuery = makePaginator(A);')).toThrow(/no longer calls createPaginator/);
  });

  it('applies to the installed paginators, each of which only imports and makes its paginator', () => {
    expect(paginators.map((path) => path.split('/').pop()).sort()).toEqual(['QueryPaginator.js', 'ScanPaginator.js']);
    for (const path of paginators) {
      const statements = readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('import '));
      // Nothing else runs at import: marking the one call pure drops no side effect.
      expect(statements, path).toEqual([expect.stringMatching(/^export const paginate\w+ = createPaginator\(DynamoDBDocumentClient, \w+Command, "\w+", "\w+", "\w+"\);$/)]);
      expect(purePaginators(readFileSync(path, 'utf8'))).toContain('/* @__PURE__ */ createPaginator(');
    }
  });

  it('lets a bundle that never queries drop the Query and Scan commands, and keeps them where one paginates', async () => {
    const getOnly = "import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb'; export const get = (c) => DynamoDBDocumentClient.from(c).send(new GetCommand({}));";
    const paging = "import { DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb'; export const pages = (c) => paginateQuery({ client: DynamoDBDocumentClient.from(c) }, {});";

    const without = await keptModules(getOnly, []);
    const withPlugin = await keptModules(getOnly, [sdkTreeShaking()]);
    expect(without).toEqual(expect.arrayContaining(['commands/QueryCommand.js', 'commands/ScanCommand.js', 'pagination/QueryPaginator.js']));
    expect(withPlugin).toContain('commands/GetCommand.js');
    expect(withPlugin.filter((path) => /Query|Scan/.test(path))).toEqual([]);
    expect(await keptModules(paging, [sdkTreeShaking()])).toEqual(expect.arrayContaining(['commands/QueryCommand.js', 'pagination/QueryPaginator.js']));
  }, 60_000);
});

/** The error registrations of `client`'s schema modules: each error's name, fault, HTTP status and message member. */
function registeredErrors(client: string): { name: string; fault: string; status: number; messageMember: string; dropped: boolean }[] {
  const errors = readFileSync(join(SDK_DIR, client, 'dist-es/models/errors.js'), 'utf8');
  return schemaModules(client).flatMap((module) => {
    const source = literalSchemaKeys(readFileSync(module, 'utf8'));
    const constants = new Map([...source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)].map(([, name, literal]) => [name!, JSON.parse(literal!) as string]));
    const { dropped } = withoutPlainErrorRegistrations(source, errors);
    return [...source.matchAll(/^export var (\w+)\$ = \[-3, n\d+, _\w+,\n {4}(\{.*\}),\n {4}\[(_\w+)/gm)]
      .filter(([, name]) => source.includes(`_registry.registerError(${name}$, ${name});`))
      .map(([, name, traits, firstMember]) => {
        const fault = constants.get(/"error": (_\w+)/.exec(traits!)![1]!)!;
        const status = Number(/"httpError": (\d{3})/.exec(traits!)?.[1] ?? (fault === 'server' ? 500 : 400));
        const member = constants.get(firstMember!);
        return { name: name!, fault, status, messageMember: member === 'Message' ? 'Message' : 'message', dropped: dropped.includes(name!) };
      });
  });
}

describe('sdkTreeShaking on the error registries of the clients Gatehouse bundles', () => {
  const PROBED: readonly ProbedClient[] = ['client-dynamodb', 'client-secrets-manager', 'client-sesv2', 'client-sfn'];
  const NAMESPACE: Record<ProbedClient, string> = {
    'client-dynamodb': 'com.amazonaws.dynamodb.v20120810',
    'client-secrets-manager': 'com.amazonaws.secretsmanager',
    'client-sesv2': 'com.amazonaws.sesv2',
    'client-sfn': 'com.amazonaws.sfn',
  };
  const errors = Object.fromEntries(PROBED.map((client) => [client, registeredErrors(client)])) as Record<ProbedClient, ReturnType<typeof registeredErrors>>;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-errors-'));
  let server: Server;
  let origin = '';
  const requests = new Map<string, number>();

  beforeAll(async () => {
    // Answers every request with the error its path names (`/<client>/<error>/...`), the way each protocol writes errors:
    // awsJson in the body's __type, restJson (SES v2) in the x-amzn-ErrorType header.
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const [, client, name] = (request.url ?? '').split('/') as [string, ProbedClient, string];
        requests.set(`${client}/${name}`, (requests.get(`${client}/${name}`) ?? 0) + 1);
        const error = errors[client]?.find((e) => e.name === name);
        if (!error) {
          response.writeHead(418).end();
          return;
        }
        const rest = client === 'client-sesv2';
        response.writeHead(error.status, {
          'content-type': rest ? 'application/json' : 'application/x-amz-json-1.0',
          'x-amzn-requestid': `probe-${name}`,
          ...(rest ? { 'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/${NAMESPACE[client]}/` } : {}),
        });
        response.end(JSON.stringify({ ...(rest ? {} : { __type: `${NAMESPACE[client]}#${name}` }), [error.messageMember]: `${name} from the probe` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The probe bundled with Gatehouse's own options, `plugins` in place of the SDK tree-shaking plugin when given. */
  async function probe(name: string, plugins?: Plugin[]): Promise<(client: ProbedClient, endpoint: string) => Promise<ThrownError>> {
    const options = esbuildBuildOptions(gatehouseEsbuildOptions(), { projectRoot: PROJECT_ROOT, entry: 'test/lib/fixtures/sdk-error-probe.ts', outdir: join(dir, name) });
    await build({ ...options, ...(plugins ? { plugins } : {}), logLevel: 'silent' });
    return ((await import(pathToFileURL(join(dir, name, 'index.mjs')).href)) as { thrown: (client: ProbedClient, endpoint: string) => Promise<ThrownError> }).thrown;
  }

  it('drops only plain errors: every error with members, a retry trait or a server fault stays registered', () => {
    const dropped = (client: ProbedClient) => new Set(errors[client].filter((e) => e.dropped).map((e) => e.name));
    const kept = (client: ProbedClient) => new Set(errors[client].filter((e) => !e.dropped).map((e) => e.name));
    expect(PROBED.reduce((n, client) => n + dropped(client).size, 0)).toBeGreaterThanOrEqual(60);
    // Errors whose members Gatehouse reads, whose class sets $retryable, or that are server faults.
    for (const name of ['TransactionCanceledException', 'ConditionalCheckFailedException', 'ReplicatedWriteConflictException', 'ThrottlingException', 'InternalServerError', 'ProvisionedThroughputExceededException']) {
      expect(kept('client-dynamodb'), name).toContain(name);
    }
    expect(dropped('client-dynamodb')).toContain('TransactionConflictException');
    expect(dropped('client-secrets-manager')).toContain('ResourceNotFoundException');
    for (const name of ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken', 'ExecutionAlreadyExists']) expect(dropped('client-sfn'), name).toContain(name);
    expect(dropped('client-sesv2')).toContain('TooManyRequestsException');
  });

  it('throws every error of these clients with the same name, fault, message, status, retries and members either way', async () => {
    const [withRewrite, withoutRewrite] = await Promise.all([
      probe('with'),
      probe('without', [keysAndVersionOnly]),
    ]);
    let compared = 0;
    for (const client of PROBED) {
      await Promise.all(
        errors[client].map(async (error) => {
          const endpoint = `${origin}/${client}/${error.name}`;
          const [after, before] = await Promise.all([withRewrite(client, endpoint), withoutRewrite(client, endpoint)]);
          const { builtAsBase: baseAfter, ...seenAfter } = after;
          const { builtAsBase: baseBefore, ...seenBefore } = before;
          expect(seenAfter, `${client} ${error.name}`).toEqual(seenBefore);
          expect(seenAfter, `${client} ${error.name}`).toMatchObject({ name: error.name, message: `${error.name} from the probe`, fault: error.fault, status: error.status, isServiceException: true });
          // The rewrite took effect in the bundle: a dropped error is built as the service's base exception.
          expect(baseBefore, `${client} ${error.name}`).toBe(false);
          expect(baseAfter, `${client} ${error.name}`).toBe(error.dropped);
          compared += 1;
        }),
      );
    }
    expect(compared).toBe(PROBED.reduce((n, client) => n + errors[client].length, 0));
    // Throttling errors (by name, as the SDK classifies them) were retried by both bundles.
    expect(requests.get('client-dynamodb/ThrottlingException')).toBe(4);
    expect(requests.get('client-sfn/TaskTimedOut')).toBe(2);
  }, 120_000);
});
