import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretsVault } from '../../../../lambdas/adapters/aws/secrets-vault.js';
import type { SigningKey } from '../../../../lambdas/core/ports.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-signing-key-AbCdEf';
const sm = mockClient(SecretsManagerClient);

const vault = () => new SecretsVault({ secretId: SECRET_ID, client: new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG) });
const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label", $metadata: {} });

let current: SigningKey;
let pending: SigningKey;
let previous: SigningKey;

beforeAll(async () => {
  [current, pending, previous] = await Promise.all([generateSigningKey(), generateSigningKey(), generateSigningKey()]);
});

describe('SecretsVault', () => {
  afterEach(() => {
    sm.reset();
  });

  it('reads AWSCURRENT, AWSPENDING and AWSPREVIOUS of the one secret', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(current) });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).rejects(notFound());
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());

    const keys = await vault().getSigningKeys();

    expect(keys).toEqual({ current, published: [] });
    const inputs = sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(3);
    expect(inputs).toEqual(
      expect.arrayContaining([
        { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' },
        { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' },
        { SecretId: SECRET_ID, VersionStage: 'AWSPREVIOUS' },
      ]),
    );
  });

  it('publishes the pending and previous keys during a rotation', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(current) });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).resolves({ SecretString: JSON.stringify(pending) });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: JSON.stringify(previous) });

    await expect(vault().getSigningKeys()).resolves.toEqual({ current, published: [pending, previous], pending, previous });
  });

  it('ignores a stage that holds something other than a signing key', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(current) });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).resolves({ SecretString: '{"placeholder":true}' });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: 'x8#generated-placeholder' });

    await expect(vault().getSigningKeys()).resolves.toMatchObject({ current, published: [] });
  });

  it('refuses to sign when AWSCURRENT still holds the placeholder', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: 'x8#generated-placeholder' });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).rejects(notFound());
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());

    await expect(vault().getSigningKeys()).rejects.toThrow('no usable AWSCURRENT');
  });

  it('fails when the secret itself is missing', async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());

    await expect(vault().getSigningKeys()).rejects.toThrow('no usable AWSCURRENT');
  });

  it('propagates a failure other than a missing stage', async () => {
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(current) });
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).rejects(new Error('AccessDeniedException'));
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(notFound());

    await expect(vault().getSigningKeys()).rejects.toThrow('AccessDeniedException');
  });
});
