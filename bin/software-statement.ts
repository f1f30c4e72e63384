import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localSoftwareStatementSigner } from '../lambdas/adapters/local/software-statement-signer.js';

/** `npm run software-statement -- --tier partner --software-id my-app [--scope "..."]`: signs one with the local commercial key. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tier: { type: 'string', default: 'partner' },
      'software-id': { type: 'string', default: 'my-app' },
      'org-name': { type: 'string' },
      scope: { type: 'string' },
      days: { type: 'string', default: '30' },
    },
  });
  const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
  const signer = await localSoftwareStatementSigner(resolve(dataDir, 'software-statement-signer.json'));
  const jwt = await signer.sign(
    {
      software_id: values['software-id']!,
      tier: values.tier!,
      ...(values['org-name'] ? { org_name: values['org-name'] } : {}),
      ...(values.scope ? { scope: values.scope } : {}),
    },
    Number(values.days) * 86_400,
  );
  process.stdout.write(`${jwt}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
