import {
  CreateSecretCommand,
  DeleteSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  type DeleteSecretCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { ServiceError } from '../../core/errors.js';
import type { ClientSecretStore, ClientSecretValue } from '../../core/ports.js';
import { SecretsManagerStagedSecret } from './secrets-staged-secret.js';
import { ENV } from './env.js';
import { abortWithCaller } from './caller-abort.js';

export interface SecretsManagerClientSecretsOptions {
  /** Secret names are `<prefix><client_id>`; the stack scopes every grant to this prefix. */
  readonly namePrefix: string;
  /** Customer-managed KMS key the secrets are encrypted with. */
  readonly kmsKeyId: string;
  /** The client-secret rotation function Secrets Manager invokes on each secret's schedule. */
  readonly rotationLambdaArn: string;
  /** Days a deleted secret can still be restored. @default 7 */
  readonly recoveryWindowDays?: number;
  readonly client?: SecretsManagerClient;
}

/**
 * Client secrets in Secrets Manager: one secret per consumer, created at issuance under the customer-managed key with
 * rotation turned on (the first rotation after `rotateEveryDays`), deleted after a recovery window when the consumer goes.
 */
export class SecretsManagerClientSecrets implements ClientSecretStore {
  readonly #options: SecretsManagerClientSecretsOptions;
  readonly #client: SecretsManagerClient;

  constructor(options: SecretsManagerClientSecretsOptions) {
    this.#options = options;
    this.#client = options.client ?? abortWithCaller(new SecretsManagerClient({}));
  }

  secretName(clientId: string): string {
    return `${this.#options.namePrefix}${clientId}`;
  }

  async create(value: ClientSecretValue, rotateEveryDays: number): Promise<void> {
    const name = this.secretName(value.clientId);
    try {
      await this.#client.send(
        new CreateSecretCommand({
          Name: name,
          Description: `Gatehouse client secret of ${value.clientId}; rotated by Gatehouse, fetched by the consumer with its registration access token.`,
          KmsKeyId: this.#options.kmsKeyId,
          SecretString: JSON.stringify(value),
          Tags: [{ Key: 'gatehouse:client-id', Value: value.clientId }],
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ResourceExistsException')
        throw new ServiceError('conflict', `A client secret for ${value.clientId} is already stored.`, { cause: error });
      throw error;
    }
    try {
      // Not rotated now: the consumer has just received this secret. Secrets Manager only tests the configuration.
      await this.#client.send(
        new RotateSecretCommand({
          SecretId: name,
          RotationLambdaARN: this.#options.rotationLambdaArn,
          RotationRules: { AutomaticallyAfterDays: rotateEveryDays },
          RotateImmediately: false,
        }),
      );
    } catch (error) {
      // A secret that would never rotate is not issued: remove it, and the registration fails as a whole.
      await this.#client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })).catch(() => undefined);
      throw error;
    }
  }

  staged(clientId: string): SecretsManagerStagedSecret {
    return new SecretsManagerStagedSecret(this.secretName(clientId), this.#client);
  }

  async rotateNow(clientId: string): Promise<void> {
    // Rotation rules and function are already set on the secret: this starts a rotation with them, at once.
    await this.#client.send(new RotateSecretCommand({ SecretId: this.secretName(clientId), RotateImmediately: true }));
  }

  async remove(clientId: string): Promise<void> {
    await this.#delete({ SecretId: this.secretName(clientId), RecoveryWindowInDays: this.#options.recoveryWindowDays ?? 7 });
  }

  async discard(clientId: string): Promise<void> {
    await this.#delete({ SecretId: this.secretName(clientId), ForceDeleteWithoutRecovery: true });
  }

  async #delete(input: DeleteSecretCommandInput): Promise<void> {
    try {
      await this.#client.send(new DeleteSecretCommand(input));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }
}

/** The client-secret store of a function with a `client-secrets:*` capability, from the prefix, key and rotation function the stack sets. */
export function clientSecretsFromEnv(): SecretsManagerClientSecrets {
  return new SecretsManagerClientSecrets({
    namePrefix: process.env[ENV.clientSecretPrefix] ?? 'gatehouse/clients/',
    kmsKeyId: process.env[ENV.clientSecretKeyId] ?? '',
    rotationLambdaArn: process.env[ENV.clientSecretRotationArn] ?? '',
  });
}
