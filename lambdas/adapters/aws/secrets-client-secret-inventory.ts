import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientSecretInventory, ClientSecretPage } from '../../core/ports.js';
import { abortWithCaller } from './caller-abort.js';
import { ENV } from './env.js';

/** The tag CreateSecret puts on every client secret (secrets-client-secrets.ts). */
const CLIENT_ID_TAG = 'gatehouse:client-id';

export interface SecretsManagerClientSecretInventoryOptions {
  /** Client secrets are named `<prefix><client_id>` (secrets-client-secrets.ts). */
  readonly namePrefix: string;
  readonly client?: SecretsManagerClient;
}

/**
 * The deployment's client secrets in Secrets Manager: ListSecrets filtered by the name prefix (secrets already scheduled
 * for deletion are not listed). A secret counts only when its name is the prefix and a client id and its
 * `gatehouse:client-id` tag names that same id, as CreateSecret wrote it: anything else under the prefix is not ours to judge.
 */
export class SecretsManagerClientSecretInventory implements ClientSecretInventory {
  readonly #prefix: string;
  readonly #client: SecretsManagerClient;

  constructor(options: SecretsManagerClientSecretInventoryOptions) {
    this.#prefix = options.namePrefix;
    this.#client = options.client ?? abortWithCaller(new SecretsManagerClient({}));
  }

  async listClientSecrets(next?: string): Promise<ClientSecretPage> {
    const out = await this.#client.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [this.#prefix] }],
        IncludePlannedDeletion: false,
        MaxResults: 100,
        ...(next ? { NextToken: next } : {}),
      }),
    );
    const secrets = (out.SecretList ?? []).flatMap((s) => {
      // The name filter matches prefixes loosely (case, other prefixes sharing the start): check the exact form.
      if (!s.Name?.startsWith(this.#prefix) || !s.CreatedDate) return [];
      const clientId = s.Name.slice(this.#prefix.length);
      const tagged = s.Tags?.find((t) => t.Key === CLIENT_ID_TAG)?.Value;
      return /^[A-Za-z0-9_-]+$/.test(clientId) && tagged === clientId ? [{ clientId, createdAt: s.CreatedDate }] : [];
    });
    return { secrets, ...(out.NextToken ? { next: out.NextToken } : {}) };
  }
}

/** The sweep's listing of client secrets, under the prefix the stack sets. */
export function clientSecretInventoryFromEnv(): SecretsManagerClientSecretInventory {
  return new SecretsManagerClientSecretInventory({ namePrefix: process.env[ENV.clientSecretPrefix] ?? 'gatehouse/clients/' });
}
