import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript (it runs before anything can load TypeScript); its JSDoc states the types.
import { ensureBuilt } from '../../bin/local-build.mjs';

type EnsureBuilt = (options: { esbuild: typeof esbuild; root: string; entry: string; outFile: string; inputsFile: string }) => Promise<boolean>;
const build = ensureBuilt as EnsureBuilt;

/** A project of two TypeScript modules and one package import, built as `npm start` builds bin/local.ts. */
function project() {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-local-build-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'lib'));
  writeFileSync(join(root, 'lib', 'answer.ts'), 'export const answer: number = 41;\n');
  writeFileSync(
    join(root, 'bin', 'main.ts'),
    "import { answer } from '../lib/answer.js';\nimport { sep } from 'node:path';\nexport const value = answer + sep.length;\n",
  );
  const outFile = join(root, 'node_modules', '.cache', 'gatehouse', 'main.mjs');
  const options = { esbuild, root, entry: 'bin/main.ts', outFile, inputsFile: join(root, 'node_modules', '.cache', 'gatehouse', 'main.inputs.json') };
  // Sources written earlier than any build, whatever the file system's timestamp resolution.
  const past = new Date(Date.now() - 60_000);
  for (const file of ['bin/main.ts', 'lib/answer.ts']) utimesSync(join(root, file), past, past);
  return { root, outFile, options };
}

const valueOf = async (outFile: string): Promise<unknown> =>
  ((await import(`${pathToFileURL(outFile).href}?t=${statSync(outFile).mtimeMs}`)) as { value: unknown }).value;

describe('ensureBuilt (the build npm start runs)', () => {
  it('builds the entry and the sources it imports into one file, leaving packages and built-ins as imports', async () => {
    const { outFile, options } = project();
    expect(await build(options)).toBe(true);
    const text = readFileSync(outFile, 'utf8');
    expect(text).toContain('answer = 41');
    expect(text).toMatch(/from "node:path"/);
    expect(await valueOf(outFile)).toBe(42);
  });

  it('reuses the last build while no source it read has changed', async () => {
    const { options } = project();
    await build(options);
    expect(await build(options)).toBe(false);
  });

  it('builds again when a source it read changes', async () => {
    const { root, outFile, options } = project();
    await build(options);
    writeFileSync(join(root, 'lib', 'answer.ts'), 'export const answer: number = 99;\n');
    const later = new Date(statSync(outFile).mtimeMs + 5_000);
    utimesSync(join(root, 'lib', 'answer.ts'), later, later);
    expect(await build(options)).toBe(true);
    expect(await valueOf(outFile)).toBe(100);
  });

  it('builds again when a source it read is gone, and fails (writing nothing new) when the entry no longer resolves', async () => {
    const { root, outFile, options } = project();
    await build(options);
    const before = readFileSync(outFile, 'utf8');
    rmSync(join(root, 'lib', 'answer.ts'));
    await expect(build(options)).rejects.toThrow(/answer/);
    expect(readFileSync(outFile, 'utf8')).toBe(before);
  });

  it('builds again when the record of inputs is missing or unreadable', async () => {
    const { options } = project();
    await build(options);
    writeFileSync(options.inputsFile, 'not json');
    expect(await build(options)).toBe(true);
    rmSync(options.inputsFile);
    expect(await build(options)).toBe(true);
  });
});
