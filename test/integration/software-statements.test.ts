import { CreateTableCommand, DynamoDBClient, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { exportJWK, generateKeyPair } from 'jose';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane, tableSnapshot } from './local-mode.js';

/**
 * Software statements over HTTP: each must carry an `exp` within the policy's maximum, and one software_id may have at
 * most `softwareStatements.maxConsumersPerSoftwareId` live consumers.
 */

const MAX_PER_SOFTWARE_ID = 2;
let plane: LocalControlPlane;

beforeAll(async () => {
  const policy = JSON.parse(readFileSync('policy/policy.json', 'utf8')) as { softwareStatements: { maxConsumersPerSoftwareId: number } };
  policy.softwareStatements.maxConsumersPerSoftwareId = MAX_PER_SOFTWARE_ID;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-statements-')), 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  plane = await startTestPlane({ policyFile });
});
afterAll(async () => {
  await plane?.close();
});

async function registerWith(statement: string) {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return postJson(
    `${plane.url}/register`,
    publicRequest({
      client_name: 'SME payments',
      tier: 'partner',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] },
      software_statement: statement,
    }),
  );
}

const consumerCount = async () => (await tableSnapshot(plane)).filter((item) => (item as { sk: string }).sk === 'CONSUMER').length;

describe('software statements (local mode over HTTP)', () => {
  it('refuses a statement that lives longer than the policy allows, writing nothing', async () => {
    const before = await consumerCount();

    const res = await registerWith(await plane.softwareStatements.sign({ software_id: 'long-lived', tier: 'partner' }, 31 * 86_400));

    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_software_statement', field: 'software_statement' });
    expect(await consumerCount()).toBe(before);
  });

  it('refuses one more consumer than the policy allows per software_id, and counts only live ones', async () => {
    const sign = () => plane.softwareStatements.sign({ software_id: 'treasury-sync', tier: 'partner' });
    const first = await registerWith(await sign());
    expect((await registerWith(await sign())).status).toBe(201);
    expect(first.status).toBe(201);
    // Claiming the software_id without a statement neither counts nor is refused.
    expect((await postJson(`${plane.url}/register`, publicRequest({ software_id: 'treasury-sync' }))).status).toBe(201);
    const before = await consumerCount();

    const refused = await registerWith(await sign());

    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ error: 'unapproved_software_statement', field: 'software_statement' });
    expect(String(refused.json['error_description'])).toContain(`(${MAX_PER_SOFTWARE_ID})`);
    expect(await consumerCount()).toBe(before);
    expect((await registerWith(await plane.softwareStatements.sign({ software_id: 'another-app', tier: 'partner' }))).status).toBe(201);

    const terminated = await fetch(`${plane.url}/admin/consumers/${String(first.json['client_id'])}/terminate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${plane.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'contract ended' }),
    });
    expect(terminated.status).toBe(200);
    expect((await registerWith(await sign())).status).toBe(201);
  });
});

describe('local table from an older version', () => {
  it('is rebuilt with the indexes added since, keeping its items', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-old-table-'));
    const server = dynalite({ path: join(dataDir, 'dynamodb'), createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await client.send(
      new CreateTableCommand({
        TableName: 'gatehouse',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'attention',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    // CreateTable answers while the table is still CREATING (dynalite activates it on a timer): wait until it is ACTIVE.
    await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 0.05, maxDelay: 0.2 }, { TableName: 'gatehouse' });
    await client.send(new PutItemCommand({ TableName: 'gatehouse', Item: { pk: { S: 'MARKER#kept' }, sk: { S: 'MARKER' }, ttl: { N: '9999999999' } } }));
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // A data dir with items but no signing key would be refused as damaged; this one starts over with a new key.
    writeFileSync(join(dataDir, 'signing-keys.json'), '{}');

    const upgraded = await startTestPlane({ dataDir });
    try {
      expect(await tableSnapshot(upgraded)).toContainEqual(expect.objectContaining({ pk: 'MARKER#kept' }));
      const statement = await upgraded.softwareStatements.sign({ software_id: 'after-upgrade', tier: 'partner' });
      const pair = await generateKeyPair('ES256', { extractable: true });
      const reg = await postJson(
        `${upgraded.url}/register`,
        publicRequest({
          tier: 'partner',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] },
          software_statement: statement,
        }),
      );
      expect(reg.status).toBe(201);
    } finally {
      await upgraded.close();
    }
  });
});
