/**
 * `npm start`: runs bin/local.ts (the whole control plane on this machine) from one ESM file that esbuild builds from the
 * project's own sources (bin/local-build.mjs). Loading the ~250 TypeScript modules one by one through tsx's loader hooks
 * was about half of a start; the build takes a few hundred milliseconds and is reused until a source changes. Without
 * esbuild (an install without dev dependencies) it runs bin/local.ts through tsx, as before.
 *
 * The file is written to node_modules/.cache/gatehouse/, three directories below the project root like bin/local.ts's
 * modules under lambdas/adapters/local/, so the paths those take relative to their module (the project root, the policy,
 * the state machines) resolve the same.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './local-build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// npm runs this under a shell (`sh -c` on Linux), and a supervisor's SIGTERM to npm ends that shell, not this process,
// which would go on serving as an orphan. So once the process that started this one is gone (it is then re-parented),
// it stops as if told to: the same graceful stop as SIGTERM. Where a parent never changes (Windows), nothing happens.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(orphanWatch);
  process.kill(process.pid, 'SIGTERM');
}, 250);
orphanWatch.unref();
const entry = 'bin/local.ts';
const esbuild = await import('esbuild').catch(() => undefined);
if (esbuild) {
  const outDir = join(root, 'node_modules', '.cache', 'gatehouse');
  const outFile = join(outDir, 'local.mjs');
  try {
    await ensureBuilt({ esbuild, root, entry, outFile, inputsFile: join(outDir, 'local.inputs.json') });
  } catch (error) {
    // esbuild has already printed each error with its file, line and a code frame; its own stack adds nothing.
    process.stderr.write(`\nnpm start: the local sources did not build (${error.errors?.length ?? 1} error(s) above).\n`);
    process.exit(1);
  }
  // Stack traces name the TypeScript sources, as they did under tsx.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(outFile).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, entry)).href);
}
