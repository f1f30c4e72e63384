import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * Four rewrites of AWS SDK files as esbuild loads them, each keeping every value the module exports and letting
 * esbuild drop what a function never uses (test/lib/sdk-tree-shaking.test.ts compares the exports of every installed
 * client before and after, and checks that the bytes go):
 * - a client's schema module (`dist-es/schemas/schemas_N.js`) writes the HTTP binding of each REST operation as an object
 *   with a computed key, `{ [_h]: ["POST", "/v2/email/outbound-emails", 200] }`, where `_h` is a string constant of the
 *   same module. esbuild cannot prove that a computed key has no side effect, so it keeps every such operation and every
 *   shape it names: SES v2 brought its whole API (about 44 KB) to each function that sends one kind of email. The key
 *   is rewritten to the constant's literal, which is the same property;
 * - a client's `package.json`, which its runtime configuration imports whole for one field (the version in the user
 *   agent), about 2 KB per client. Only `version` is kept;
 * - the same schema module registers every error of the service, with its class, in a type registry, a side effect that
 *   keeps all of them (DynamoDB has 40) in every bundle. A *plain* error (a client fault whose only member is its message,
 *   with no other trait, and whose class does nothing but name itself) deserializes to nothing the service's base
 *   exception cannot hold: an error code missing from the registry is thrown as the base exception with that name, its
 *   fault (from the HTTP status), message and metadata, all of which Gatehouse reads by `name` (as does the SDK's retry
 *   classification). The registration of plain errors is dropped; every other error (extra members, `$retryable`, server
 *   faults, query-compatible codes) stays registered. The test runs each dropped error through a bundled client against a
 *   scripted endpoint and compares what is thrown with and without this rewrite;
 * - the DynamoDB document client (`@aws-sdk/lib-dynamodb`, which unlike the clients does not declare itself free of side
 *   effects) builds `paginateQuery` and `paginateScan` with a call at import, which kept the Query and Scan commands in
 *   every bundle with a registry. The call is marked pure.
 */

/** A schema module of an SDK client package. */
export const SDK_SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
/** The package.json of an SDK client package. */
export const SDK_CLIENT_PACKAGE_JSON = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;
/** A paginator module of the DynamoDB document client, a package that (unlike the clients) does not declare `sideEffects: false`. */
export const DOCUMENT_CLIENT_PAGINATOR = /[\\/]@aws-sdk[\\/]lib-dynamodb[\\/]dist-es[\\/]pagination[\\/]\w+Paginator\.js$/;

/** `const _x = "...";` at the start of a line: the string constants of a schema module. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed property key naming one of those constants. */
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/** The string constants of a schema module, by name, each as its JSON literal. */
function stringConstants(source: string): Map<string, string> {
  return new Map([...source.matchAll(STRING_CONSTANT)].map(([, name, literal]) => [name!, literal!]));
}

/**
 * `source` with every computed key that names a string constant of the module written as that literal. A key whose
 * value is `__proto__` is left computed: as a literal it would set the prototype instead of defining a property.
 */
export function literalSchemaKeys(source: string): string {
  const constants = stringConstants(source);
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined || JSON.parse(literal) === '__proto__' ? key : `${literal}:`;
  });
}

/** An error schema and its registration: `(name, namespace, fault constant, member constant)`. */
const ERROR_REGISTRATION =
  /^export var (\w+)\$ = \[-3, (n\d+), _\w+,\n {4}\{ "error": (_\w+)(?:, "httpError": \d{3})? \},\n {4}\[(_\w+)\],\n {4}\[0\]\n\];\n\2_registry\.registerError\(\1\$, \1\);$/gm;

/** The class an SDK client generates for an error with no member but `message`, or `Message`, which it `copied`. */
function plainErrorClass(name: string, copied: boolean): string {
  return [
    `export class ${name} extends __BaseException {`,
    `    static shapeId = SHAPE_ID;`,
    `    name = "${name}";`,
    '    $fault = "client";',
    ...(copied ? ['    Message;'] : []),
    '    constructor(opts) {',
    '        super({',
    `            name: "${name}",`,
    '            $fault: "client",',
    '            ...opts,',
    '        });',
    `        Object.setPrototypeOf(this, ${name}.prototype);`,
    ...(copied ? ['        this.Message = opts.Message;'] : []),
    '    }',
    '}',
  ].join('\n');
}

/** The class `name` as `errorsSource` defines it, its shape id written `SHAPE_ID`; undefined if it defines none. */
function errorClass(errorsSource: string, name: string): string | undefined {
  const start = errorsSource.indexOf(`\nexport class ${name} extends `);
  if (start < 0) return undefined;
  const end = errorsSource.indexOf('\n}', start + 1);
  return end < 0 ? undefined : errorsSource.slice(start + 1, end + 2).replace(/^( {4}static shapeId = )"[^"\n]*";$/m, '$1SHAPE_ID;');
}

/**
 * `schemaSource` (a schema module whose computed keys are already literal) without the registration of each plain error
 * whose class `errorsSource` (the client's `models/errors.js`) defines; `dropped` names them.
 */
export function withoutPlainErrorRegistrations(schemaSource: string, errorsSource: string): { readonly source: string; readonly dropped: readonly string[] } {
  const constants = stringConstants(schemaSource);
  const dropped: string[] = [];
  const source = schemaSource.replace(ERROR_REGISTRATION, (block, name: string, _namespace: string, fault: string, member: string) => {
    const memberName = constants.get(member);
    if (constants.get(fault) !== '"client"' || (memberName !== '"message"' && memberName !== '"Message"')) return block;
    if (errorClass(errorsSource, name) !== plainErrorClass(name, memberName === '"Message"')) return block;
    dropped.push(name);
    return block.slice(0, block.lastIndexOf('\n'));
  });
  return { source, dropped };
}

/** The `models/errors.js` next to a client's schema module (empty for a client without one). */
async function errorsModuleOf(schemaModule: string): Promise<string> {
  try {
    return await readFile(join(dirname(schemaModule), '..', 'models', 'errors.js'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/** A client package.json reduced to the one field its modules read. */
export function versionOnlyPackageJson(source: string): string {
  const { version } = JSON.parse(source) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('SDK client package.json has no version');
  return JSON.stringify({ version });
}

/**
 * A document-client paginator module with its `createPaginator(...)` call marked pure. The call only builds a function
 * from its arguments, but esbuild must assume a call has side effects: every bundle with the document client kept
 * `paginateQuery` and `paginateScan`, and with them the Query and Scan commands, whether it queried or not. Marked pure,
 * the paginator (and the command it names) goes where nothing uses it, and is unchanged where something does.
 */
export function purePaginators(source: string): string {
  const marked = source.replace(/= createPaginator\(/g, '= /* @__PURE__ */ createPaginator(');
  if (marked === source) throw new Error('A document-client paginator module no longer calls createPaginator as expected');
  return marked;
}

/** The esbuild plugin applying all four rewrites (lib/bundling.ts adds it to every Gatehouse bundle). */
export function sdkTreeShaking(): Plugin {
  return {
    name: 'gatehouse-sdk-tree-shaking',
    setup(build) {
      build.onLoad({ filter: SDK_SCHEMA_MODULE }, async ({ path }) => {
        const literal = literalSchemaKeys(await readFile(path, 'utf8'));
        return { contents: withoutPlainErrorRegistrations(literal, await errorsModuleOf(path)).source, loader: 'js' };
      });
      build.onLoad({ filter: SDK_CLIENT_PACKAGE_JSON }, async ({ path }) => ({ contents: versionOnlyPackageJson(await readFile(path, 'utf8')), loader: 'json' }));
      build.onLoad({ filter: DOCUMENT_CLIENT_PAGINATOR }, async ({ path }) => ({ contents: purePaginators(await readFile(path, 'utf8')), loader: 'js' }));
    },
  };
}
