import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const USAGE = `usage: npm run cleanup:client-secrets -- --stack <stack name> [--prefix PREFIX] [--recovery-days 7] [--yes]

After \`cdk destroy\`, consumers' client secrets (created at run time under gatehouse/<stack>/clients/) stay and are
billed, with rotation pointing at a deleted function. This schedules their deletion (Secrets Manager keeps each for the
recovery window, 7-30 days, during which \`aws secretsmanager restore-secret\` brings it back). Without --yes it only lists
them. It uses the standard AWS credential chain and needs secretsmanager:ListSecrets and DeleteSecret on the prefix.`;

export interface CleanupOptions {
  readonly client: SecretsManagerClient;
  /** Every secret whose name starts with it is scheduled for deletion; it must end with `/`. */
  readonly prefix: string;
  /** Days Secrets Manager keeps a deleted secret restorable (7 to 30). */
  readonly recoveryDays: number;
  /** List only. */
  readonly dryRun: boolean;
  readonly out: (line: string) => void;
}

/** Schedules the deletion of every secret under `prefix` (one already scheduled is not listed by Secrets Manager); returns their names. */
export async function cleanupClientSecrets(options: CleanupOptions): Promise<string[]> {
  if (!options.prefix.endsWith('/') || options.prefix.length < 2) throw new Error(`The prefix must end with / (got ${JSON.stringify(options.prefix)})`);
  if (!Number.isInteger(options.recoveryDays) || options.recoveryDays < 7 || options.recoveryDays > 30) {
    throw new Error(`--recovery-days must be a whole number from 7 to 30 (got ${options.recoveryDays})`);
  }
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await options.client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [options.prefix] }], MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    // The name filter matches words of a name too, not only its start: keep only the prefix's own secrets.
    for (const secret of page.SecretList ?? []) if (secret.Name?.startsWith(options.prefix)) names.push(secret.Name);
    nextToken = page.NextToken;
  } while (nextToken);
  for (const name of names) {
    if (options.dryRun) {
      options.out(`would delete ${name}`);
      continue;
    }
    await options.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: options.recoveryDays }));
    options.out(`scheduled for deletion in ${options.recoveryDays} days: ${name}`);
  }
  options.out(
    `${names.length} client secret(s) under ${options.prefix}${options.dryRun && names.length > 0 ? ' (listed only: add --yes to delete them)' : ''}`,
  );
  return names;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string' },
      prefix: { type: 'string' },
      'recovery-days': { type: 'string', default: '7' },
      yes: { type: 'boolean', default: false },
    },
  });
  if (!values.stack && !values.prefix) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  await cleanupClientSecrets({
    client: new SecretsManagerClient({}),
    // The stack's default (ClientSecrets: gatehouse/<stack name>/clients/), or the ClientSecretPrefix output of a stack that set its own.
    prefix: values.prefix ?? `gatehouse/${values.stack}/clients/`,
    recoveryDays: Number(values['recovery-days']),
    dryRun: !values.yes,
    out: (line) => process.stdout.write(`${line}\n`),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
