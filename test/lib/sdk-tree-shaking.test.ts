import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { literalSchemaKeys, SDK_CLIENT_PACKAGE_JSON, SDK_SCHEMA_MODULE, sdkTreeShaking, versionOnlyPackageJson } from '../../lib/sdk-tree-shaking.js';
import { PROJECT_ROOT } from '../../lib/gatehouse-function.js';

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

  it('leaves every value a schema module exports as it was', async () => {
    let rewritten = 0;
    for (const client of CLIENTS) {
      for (const module of schemaModules(client)) {
        const source = readFileSync(module, 'utf8');
        if (literalSchemaKeys(source) !== source) rewritten += 1;
        const name = `${client}-${module.split('/').pop()!.replace('.js', '')}`;
        const before = await load(module, [], `${name}-before`);
        const after = await load(module, [sdkTreeShaking()], `${name}-after`);
        expect(Object.keys(after).sort(), module).toEqual(Object.keys(before).sort());
        expect(shape(after), module).toEqual(shape(before));
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
