/**
 * The one-file build `npm start` runs (bin/start.mjs): esbuild bundles an entry and the project sources it imports into
 * one ESM file, its packages left as imports that Node resolves from node_modules as usual, and the build is reused until
 * a source it read changes or goes. Plain JavaScript: it runs before anything can load TypeScript.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Changes when the build options below change, so an older build is not reused. */
const BUILD_VERSION = 1;

/**
 * Builds `entry` (relative to `root`) into `outFile` unless the last build is still good, and says whether it built.
 * `inputsFile` records the sources the build read (relative to `root`).
 *
 * @param {{ esbuild: typeof import('esbuild'), root: string, entry: string, outFile: string, inputsFile: string }} options
 * @returns {Promise<boolean>}
 */
export async function ensureBuilt({ esbuild, root, entry, outFile, inputsFile }) {
  if (upToDate(root, outFile, inputsFile)) return false;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    outfile: outFile,
    logLevel: 'error',
  });
  for (const file of result.outputFiles) writeWhole(file.path, file.contents);
  writeWhole(inputsFile, JSON.stringify({ version: BUILD_VERSION, inputs: Object.keys(result.metafile.inputs) }));
  return true;
}

/** True when the last build exists, was made by these options, and no source it read has changed or gone since. */
function upToDate(root, outFile, inputsFile) {
  try {
    const record = JSON.parse(readFileSync(inputsFile, 'utf8'));
    if (record.version !== BUILD_VERSION || !Array.isArray(record.inputs)) return false;
    const built = statSync(outFile).mtimeMs;
    return record.inputs.every((input) => statSync(join(root, input)).mtimeMs < built);
  } catch {
    return false;
  }
}

/** Written beside and renamed into place, so a start running at the same moment never reads half a file. */
function writeWhole(path, contents) {
  mkdirSync(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}
