import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { STAGES, type StagedSecret } from '../../core/ports.js';

/** The StagedSecret port over one Secrets Manager secret: versions, staging labels, values. */
export class SecretsManagerStagedSecret implements StagedSecret {
  readonly #secretId: string;
  readonly #client: SecretsManagerClient;

  constructor(secretId: string, client: SecretsManagerClient) {
    this.#secretId = secretId;
    this.#client = client;
  }

  async versions(): Promise<Array<{ versionId: string; stages: string[] }>> {
    const out = await this.#client.send(new DescribeSecretCommand({ SecretId: this.#secretId }));
    return Object.entries(out.VersionIdsToStages ?? {}).map(([versionId, stages]) => ({ versionId, stages: stages ?? [] }));
  }

  async read(selector: { versionId: string } | { stage: string }): Promise<string | undefined> {
    try {
      const out = await this.#client.send(
        new GetSecretValueCommand({
          SecretId: this.#secretId,
          ...('versionId' in selector ? { VersionId: selector.versionId } : { VersionStage: selector.stage }),
        }),
      );
      return out.SecretString;
    } catch (error) {
      // A stage nobody holds (no rotation under way, no previous key yet) is simply absent.
      if ((error as Error).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async putPending(versionId: string, value: string): Promise<void> {
    await this.#client.send(
      new PutSecretValueCommand({ SecretId: this.#secretId, ClientRequestToken: versionId, SecretString: value, VersionStages: [STAGES.pending] }),
    );
  }

  async promote(versionId: string, fromVersionId: string): Promise<void> {
    await this.#client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: this.#secretId,
        VersionStage: STAGES.current,
        MoveToVersionId: versionId,
        RemoveFromVersionId: fromVersionId,
      }),
    );
  }
}
