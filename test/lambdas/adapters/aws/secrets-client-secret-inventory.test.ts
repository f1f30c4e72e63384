import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerClientSecretInventory } from '../../../../lambdas/adapters/aws/secrets-client-secret-inventory.js';
import { AWS_TEST_CLIENT_CONFIG, NOW } from '../../fixtures.js';

const PREFIX = 'gatehouse/Gatehouse/clients/';
const sm = mockClient(SecretsManagerClient);
const inventory = () => new SecretsManagerClientSecretInventory({ namePrefix: PREFIX, client: new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG) });
const tagged = (clientId: string, tag: string | null = clientId) => ({
  Name: `${PREFIX}${clientId}`,
  CreatedDate: NOW,
  ...(tag === null ? {} : { Tags: [{ Key: 'gatehouse:client-id', Value: tag }] }),
});

describe('SecretsManagerClientSecretInventory', () => {
  afterEach(() => {
    sm.reset();
  });

  it("lists the prefix's secrets, leaving out those already scheduled for deletion, and passes the page token on", async () => {
    sm.on(ListSecretsCommand).resolves({ SecretList: [tagged('gh_one')], NextToken: 'page-2' });

    const first = await inventory().listClientSecrets();
    await inventory().listClientSecrets('page-2');

    expect(first).toEqual({ secrets: [{ clientId: 'gh_one', createdAt: NOW }], next: 'page-2' });
    expect(sm.commandCalls(ListSecretsCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'name', Values: [PREFIX] }], IncludePlannedDeletion: false, MaxResults: 100 },
      { Filters: [{ Key: 'name', Values: [PREFIX] }], IncludePlannedDeletion: false, MaxResults: 100, NextToken: 'page-2' },
    ]);
  });

  it('ignores what the name filter lets through but Gatehouse did not create: another prefix, a nested name, no or another client-id tag', async () => {
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        tagged('gh_ours'),
        { Name: 'gatehouse/Gatehouse/clients-old/gh_x', CreatedDate: NOW, Tags: [{ Key: 'gatehouse:client-id', Value: 'gh_x' }] },
        { ...tagged('nested/gh_y'), Tags: [{ Key: 'gatehouse:client-id', Value: 'nested/gh_y' }] },
        tagged('gh_untagged', null),
        tagged('gh_mismatch', 'gh_other'),
        { Name: `${PREFIX}gh_nodate`, Tags: [{ Key: 'gatehouse:client-id', Value: 'gh_nodate' }] },
      ],
    });

    const page = await inventory().listClientSecrets();

    expect(page).toEqual({ secrets: [{ clientId: 'gh_ours', createdAt: NOW }] });
  });
});
