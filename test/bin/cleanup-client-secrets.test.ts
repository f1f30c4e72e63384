import { DeleteSecretCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupClientSecrets } from '../../bin/cleanup-client-secrets.js';

const sm = mockClient(SecretsManagerClient);
const PREFIX = 'gatehouse/Gatehouse-prod/clients/';

const run = (options: Partial<Parameters<typeof cleanupClientSecrets>[0]> = {}) => {
  const lines: string[] = [];
  const result = cleanupClientSecrets({
    client: new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    prefix: PREFIX,
    recoveryDays: 7,
    dryRun: false,
    out: (line) => lines.push(line),
    ...options,
  });
  return { result, lines };
};

describe('cleanupClientSecrets', () => {
  afterEach(() => {
    sm.reset();
  });

  it("schedules the deletion of every secret under the prefix, across pages, with the recovery window, and no other stage's", async () => {
    sm.on(ListSecretsCommand)
      .resolvesOnce({ SecretList: [{ Name: `${PREFIX}client-a` }, { Name: 'gatehouse/Gatehouse-staging/clients/client-x' }], NextToken: 'page-2' })
      .resolves({ SecretList: [{ Name: `${PREFIX}client-b` }, { Name: `other/${PREFIX}client-c` }] });
    sm.on(DeleteSecretCommand).resolves({});

    const { result, lines } = run({ recoveryDays: 30 });

    await expect(result).resolves.toEqual([`${PREFIX}client-a`, `${PREFIX}client-b`]);
    expect(sm.commandCalls(ListSecretsCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'name', Values: [PREFIX] }], MaxResults: 100 },
      { Filters: [{ Key: 'name', Values: [PREFIX] }], MaxResults: 100, NextToken: 'page-2' },
    ]);
    expect(sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: `${PREFIX}client-a`, RecoveryWindowInDays: 30 },
      { SecretId: `${PREFIX}client-b`, RecoveryWindowInDays: 30 },
    ]);
    expect(lines.at(-1)).toBe(`2 client secret(s) under ${PREFIX}`);
  });

  it('only lists without --yes (dry run): no DeleteSecret is sent', async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [{ Name: `${PREFIX}client-a` }] });

    const { result, lines } = run({ dryRun: true });

    await expect(result).resolves.toEqual([`${PREFIX}client-a`]);
    expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
    expect(lines).toEqual([`would delete ${PREFIX}client-a`, `1 client secret(s) under ${PREFIX} (listed only: add --yes to delete them)`]);
  });

  it.each([
    ['a prefix without a trailing slash, which would reach other stacks', { prefix: 'gatehouse/Gatehouse' }, /must end with \//],
    ['a recovery window Secrets Manager refuses', { recoveryDays: 3 }, /from 7 to 30/],
  ])('refuses %s before calling AWS', async (_what, options, message) => {
    await expect(run(options).result).rejects.toThrow(message);
    expect(sm.calls()).toHaveLength(0);
  });
});
