import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type GetSecretValueCommandInput,
  type PutSecretValueCommandInput,
  type SecretsManagerClient,
  type UpdateSecretVersionStageCommandInput,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** One version of a simulated secret: its value (absent until a step stores one) and its staging labels. */
export interface FakeVersion {
  value?: string | undefined;
  stages: string[];
}

/** A command sent to the mocked client, as [command name, input]. */
export type SentCommand = [string, object];

export interface SecretsManagerFake {
  /**
   * Makes the mocked client behave as one Secrets Manager secret holding `initial`: DescribeSecret lists its versions,
   * GetSecretValue reads one by id or stage (ResourceNotFoundException when absent or without a value), PutSecretValue
   * and UpdateSecretVersionStage move labels as Secrets Manager does. Returns the live versions the fake changes.
   */
  readonly simulateSecret: (initial: Record<string, FakeVersion>) => Map<string, FakeVersion>;
  /** Every command sent to the mocked client, in order. */
  readonly sent: () => SentCommand[];
  /** The DescribeSecret call every rotation step starts with. */
  readonly describeSecret: SentCommand;
  /** A GetSecretValue call for one version. */
  readonly getVersion: (versionId: string) => SentCommand;
}

export const notFound = (message: string): ResourceNotFoundException => new ResourceNotFoundException({ message, $metadata: {} });

/** A faithful-enough Secrets Manager for rotation tests, over an aws-sdk-client-mock stub and one secret id. */
export function secretsManagerFake(sm: AwsClientStub<SecretsManagerClient>, secretId: string): SecretsManagerFake {
  const simulateSecret = (initial: Record<string, FakeVersion>): Map<string, FakeVersion> => {
    const versions = new Map(Object.entries(initial).map(([id, v]) => [id, { value: v.value, stages: [...v.stages] }]));
    sm.on(DescribeSecretCommand).callsFake(() => ({
      ARN: secretId,
      RotationEnabled: true,
      VersionIdsToStages: Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages]])),
    }));
    sm.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => {
      const entry =
        input.VersionId !== undefined
          ? ([input.VersionId, versions.get(input.VersionId)] as const)
          : [...versions].find(([, v]) => v.stages.includes(input.VersionStage ?? 'AWSCURRENT'));
      const [id, version] = entry ?? [];
      if (!version || version.value === undefined) throw notFound("Secrets Manager can't find the specified secret value");
      return { ARN: secretId, VersionId: id, SecretString: version.value, VersionStages: [...version.stages] };
    });
    sm.on(PutSecretValueCommand).callsFake((input: PutSecretValueCommandInput) => {
      const id = input.ClientRequestToken!;
      const existing = versions.get(id);
      if (existing?.value !== undefined) {
        if (existing.value !== input.SecretString) throw new ResourceExistsException({ message: 'version exists with another value', $metadata: {} });
        return { ARN: secretId, VersionId: id };
      }
      const stages = input.VersionStages ?? ['AWSCURRENT'];
      for (const v of versions.values()) v.stages = v.stages.filter((s) => !stages.includes(s));
      versions.set(id, { value: input.SecretString, stages: [...new Set([...(existing?.stages ?? []), ...stages])] });
      return { ARN: secretId, VersionId: id, VersionStages: stages };
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake((input: UpdateSecretVersionStageCommandInput) => {
      const stage = input.VersionStage!;
      const from = input.RemoveFromVersionId === undefined ? undefined : versions.get(input.RemoveFromVersionId);
      const to = versions.get(input.MoveToVersionId!);
      if (!to || (input.RemoveFromVersionId !== undefined && !from?.stages.includes(stage))) {
        throw new InvalidParameterException({ message: 'The staging label is not attached to RemoveFromVersionId', $metadata: {} });
      }
      if (stage === 'AWSCURRENT' && from) {
        for (const v of versions.values()) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
        from.stages.push('AWSPREVIOUS');
      }
      if (from) from.stages = from.stages.filter((s) => s !== stage);
      to.stages.push(stage);
      return { ARN: secretId };
    });
    return versions;
  };

  const sent = (): SentCommand[] =>
    sm.calls().map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: object };
      return [command.constructor.name, command.input];
    });

  return {
    simulateSecret,
    sent,
    describeSecret: ['DescribeSecretCommand', { SecretId: secretId }],
    getVersion: (versionId) => ['GetSecretValueCommand', { SecretId: secretId, VersionId: versionId }],
  };
}

/** Each version's staging labels, sorted. */
export function stagesOf(versions: Map<string, FakeVersion>): Record<string, string[]> {
  return Object.fromEntries([...versions].map(([id, v]) => [id, [...v.stages].sort()]));
}
