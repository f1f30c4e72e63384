import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { SecretsManagerPublicKeyStore } from '../adapters/aws/secrets-public-keys.js';
import { SecretsManagerStagedSecret } from '../adapters/aws/secrets-staged-secret.js';
import { generateSigningKey, parseSigningKey } from '../core/tokens/generate-key.js';
import { publishPublicKeys } from '../core/tokens/public-keys.js';

/** Fixed, so CloudFormation retries and concurrent runs cannot seed two different first keys. */
const SEED_TOKEN = 'gatehouse-initial-signing-key-version-0001';

function holdsKey(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    parseSigningKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * CloudFormation custom resource: replaces the secret's generated placeholder with a first ES256 signing key, once.
 * Later keys come from rotation; this never overwrites a real key. With `PublicSecretId`, it then mirrors the public
 * halves of the secret's keys into that secret (on every Create and Update, so a stack that gains the public secret
 * later gets it filled from the keys it already has).
 */
export function createSigningKeyInitHandler(client: SecretsManagerClient = new SecretsManagerClient({})) {
  return async (event: CloudFormationCustomResourceEvent): Promise<{ PhysicalResourceId: string }> => {
    const secretId = String(event.ResourceProperties['SecretId']);
    if (event.RequestType === 'Delete') return { PhysicalResourceId: secretId };
    await seed(client, secretId);
    const publicSecretId = event.ResourceProperties['PublicSecretId'];
    if (publicSecretId !== undefined) {
      await publishPublicKeys(new SecretsManagerStagedSecret(secretId, client), new SecretsManagerPublicKeyStore(String(publicSecretId), client));
    }
    return { PhysicalResourceId: secretId };
  };
}

/** Puts the first key, unless the secret already holds one. */
async function seed(client: SecretsManagerClient, secretId: string): Promise<void> {
  const current = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (holdsKey(current.SecretString)) return;
  const key = await generateSigningKey();
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(key), ClientRequestToken: SEED_TOKEN }));
  } catch (error) {
    // Another run seeded first with the same token: keep its key.
    const again = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!holdsKey(again.SecretString)) throw error;
  }
}
