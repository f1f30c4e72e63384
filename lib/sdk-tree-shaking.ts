import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

/**
 * Two rewrites of AWS SDK client files as esbuild loads them, each keeping every value the module exports and letting
 * esbuild drop what a function never uses (test/lib/sdk-tree-shaking.test.ts compares the exports of every installed
 * client before and after, and checks that the bytes go):
 * - a client's schema module (`dist-es/schemas/schemas_N.js`) writes the HTTP binding of each REST operation as an object
 *   with a computed key, `{ [_h]: ["POST", "/v2/email/outbound-emails", 200] }`, where `_h` is a string constant of the
 *   same module. esbuild cannot prove that a computed key has no side effect, so it keeps every such operation and every
 *   shape it names: SES v2 brought its whole API (about 44 KB) to each function that sends one kind of email. The key
 *   is rewritten to the constant's literal, which is the same property;
 * - a client's `package.json`, which its runtime configuration imports whole for one field (the version in the user
 *   agent), about 2 KB per client. Only `version` is kept.
 */

/** A schema module of an SDK client package. */
export const SDK_SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;
/** The package.json of an SDK client package. */
export const SDK_CLIENT_PACKAGE_JSON = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

/** `const _x = "...";` at the start of a line: the string constants of a schema module. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed property key naming one of those constants. */
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/**
 * `source` with every computed key that names a string constant of the module written as that literal. A key whose
 * value is `__proto__` is left computed: as a literal it would set the prototype instead of defining a property.
 */
export function literalSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT)) constants.set(name!, literal!);
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined || JSON.parse(literal) === '__proto__' ? key : `${literal}:`;
  });
}

/** A client package.json reduced to the one field its modules read. */
export function versionOnlyPackageJson(source: string): string {
  const { version } = JSON.parse(source) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('SDK client package.json has no version');
  return JSON.stringify({ version });
}

/** The esbuild plugin applying both rewrites (lib/bundling.ts adds it to every Gatehouse bundle). */
export function sdkTreeShaking(): Plugin {
  return {
    name: 'gatehouse-sdk-tree-shaking',
    setup(build) {
      build.onLoad({ filter: SDK_SCHEMA_MODULE }, async ({ path }) => ({ contents: literalSchemaKeys(await readFile(path, 'utf8')), loader: 'js' }));
      build.onLoad({ filter: SDK_CLIENT_PACKAGE_JSON }, async ({ path }) => ({ contents: versionOnlyPackageJson(await readFile(path, 'utf8')), loader: 'json' }));
    },
  };
}
