import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PUBLISHED_FILE, publishedDocument, serializeDocument } from '../lambdas/handlers/openapi/published.js';

/**
 * `npm run openapi`: regenerates openapi.json at the repository root from the route table and the request schemas.
 * `npm run openapi -- --check` writes nothing and exits 1 when the published copy is out of date.
 */
async function main(): Promise<void> {
  const file = fileURLToPath(new URL(`../${PUBLISHED_FILE}`, import.meta.url));
  const fresh = serializeDocument(publishedDocument());
  if (process.argv.includes('--check')) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== fresh) {
      process.stderr.write(`${PUBLISHED_FILE} is out of date: run npm run openapi\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${PUBLISHED_FILE} is up to date\n`);
    return;
  }
  await writeFile(file, fresh);
  process.stdout.write(`wrote ${PUBLISHED_FILE}\n`);
}

await main();
