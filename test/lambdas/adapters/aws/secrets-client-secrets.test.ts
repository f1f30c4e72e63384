import { ServiceError } from '../../../../lambdas/core/errors.js';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerClientSecrets, type SecretsManagerClientSecretsOptions } from '../../../../lambdas/adapters/aws/secrets-client-secrets.js';
import { SecretsManagerStagedSecret } from '../../../../lambdas/adapters/aws/secrets-staged-secret.js';
import { AWS_TEST_CLIENT_CONFIG, CLIENT_ID, CLIENT_SECRET } from '../../fixtures.js';

const PREFIX = 'gatehouse/client-secrets/';
const NAME = `${PREFIX}${CLIENT_ID}`;
const KMS_KEY_ID = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const ROTATION_LAMBDA_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-client-secret-rotation';
const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${NAME}-AbCdEf`;

const sm = mockClient(SecretsManagerClient);

const store = (options: Partial<SecretsManagerClientSecretsOptions> = {}) =>
  new SecretsManagerClientSecrets({
    namePrefix: PREFIX,
    kmsKeyId: KMS_KEY_ID,
    rotationLambdaArn: ROTATION_LAMBDA_ARN,
    client: new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG),
    ...options,
  });

const sdkError = <T extends Error>(Type: new (o: { message: string; $metadata: object }) => T, message = 'failed') => new Type({ message, $metadata: {} });
const named = (name: string, message = 'failed') => Object.assign(new Error(message), { name });
const commandNames = () => sm.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

describe('SecretsManagerClientSecrets', () => {
  afterEach(() => {
    sm.reset();
  });

  it('names a consumer’s secret after the prefix and its client id', () => {
    expect(store().secretName(CLIENT_ID)).toBe(NAME);
  });

  describe('create', () => {
    it('creates the secret under the customer-managed key, tagged with the client id, holding the value as JSON', async () => {
      sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN, Name: NAME, VersionId: 'v1' });
      sm.on(RotateSecretCommand).resolves({ ARN: SECRET_ARN, Name: NAME });

      await store().create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90);

      expect(commandNames()).toEqual(['CreateSecretCommand', 'RotateSecretCommand']);
      const input = sm.commandCalls(CreateSecretCommand)[0]!.args[0].input;
      expect(input).toEqual({
        Name: NAME,
        Description: expect.stringContaining(CLIENT_ID),
        KmsKeyId: KMS_KEY_ID,
        SecretString: JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }),
        Tags: [{ Key: 'gatehouse:client-id', Value: CLIENT_ID }],
      });
      expect(JSON.parse(input.SecretString!)).toEqual({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
      expect(input.Description).not.toContain(CLIENT_SECRET);
    });

    it('turns rotation on with the given period and the rotation function, without rotating now', async () => {
      sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN });
      sm.on(RotateSecretCommand).resolves({ ARN: SECRET_ARN });

      await store().create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 45);

      expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([
        { SecretId: NAME, RotationLambdaARN: ROTATION_LAMBDA_ARN, RotationRules: { AutomaticallyAfterDays: 45 }, RotateImmediately: false },
      ]);
    });

    it('force-deletes the new secret and rethrows when rotation cannot be turned on', async () => {
      const cause = named('AccessDeniedException', 'Secrets Manager cannot invoke the specified Lambda function');
      sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN });
      sm.on(RotateSecretCommand).rejects(cause);
      sm.on(DeleteSecretCommand).resolves({ ARN: SECRET_ARN });

      await expect(store().create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90)).rejects.toBe(cause);

      expect(commandNames()).toEqual(['CreateSecretCommand', 'RotateSecretCommand', 'DeleteSecretCommand']);
      expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: NAME, ForceDeleteWithoutRecovery: true });
    });

    it('rethrows the rotation failure, not the clean-up failure, when the delete fails too', async () => {
      const cause = named('AccessDeniedException');
      sm.on(CreateSecretCommand).resolves({ ARN: SECRET_ARN });
      sm.on(RotateSecretCommand).rejects(cause);
      sm.on(DeleteSecretCommand).rejects(named('InternalServiceError'));

      await expect(store().create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90)).rejects.toBe(cause);

      expect(sm.commandCalls(DeleteSecretCommand)).toHaveLength(1);
    });

    it('answers a secret already stored under the name with a conflict, without turning on rotation or deleting anything', async () => {
      const exists = sdkError(ResourceExistsException, 'The operation failed because the secret already exists.');
      sm.on(CreateSecretCommand).rejects(exists);

      const refused = await store()
        .create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90)
        .catch((error: unknown) => error);

      expect(refused).toBeInstanceOf(ServiceError);
      expect(refused).toMatchObject({ code: 'conflict', cause: exists });
      expect(commandNames()).toEqual(['CreateSecretCommand']);
    });

    it('rethrows any other CreateSecret failure as it is', async () => {
      const throttled = named('ThrottlingException');
      sm.on(CreateSecretCommand).rejects(throttled);

      await expect(store().create({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, 90)).rejects.toBe(throttled);

      expect(commandNames()).toEqual(['CreateSecretCommand']);
    });
  });

  describe('staged', () => {
    it('is the staged secret of the consumer’s name', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: '{"clientId":"x","clientSecret":"y"}' });

      const staged = store().staged(CLIENT_ID);

      expect(staged).toBeInstanceOf(SecretsManagerStagedSecret);
      await expect(staged.read({ stage: 'AWSCURRENT' })).resolves.toBe('{"clientId":"x","clientSecret":"y"}');
      expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: NAME, VersionStage: 'AWSCURRENT' });
    });
  });

  describe('remove', () => {
    it('schedules deletion after a 7-day recovery window by default', async () => {
      sm.on(DeleteSecretCommand).resolves({ ARN: SECRET_ARN });

      await store().remove(CLIENT_ID);

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: NAME, RecoveryWindowInDays: 7 });
    });

    it('uses the configured recovery window', async () => {
      sm.on(DeleteSecretCommand).resolves({ ARN: SECRET_ARN });

      await store({ recoveryWindowDays: 30 }).remove(CLIENT_ID);

      expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: NAME, RecoveryWindowInDays: 30 });
    });

    it('treats a secret that does not exist as removed', async () => {
      sm.on(DeleteSecretCommand).rejects(sdkError(ResourceNotFoundException, "Secrets Manager can't find the specified secret."));

      await expect(store().remove(CLIENT_ID)).resolves.toBeUndefined();
    });

    it.each([
      ['AccessDeniedException', () => named('AccessDeniedException')],
      ['InvalidRequestException', () => sdkError(InvalidRequestException)],
      ['a throttling error', () => named('ThrottlingException')],
    ])('rethrows %s', async (_, error) => {
      const thrown = error();
      sm.on(DeleteSecretCommand).rejects(thrown);

      await expect(store().remove(CLIENT_ID)).rejects.toBe(thrown);
    });
  });

  describe('discard', () => {
    it('deletes at once, with no recovery window, whatever window removal uses (the name is free again at once)', async () => {
      sm.on(DeleteSecretCommand).resolves({ ARN: SECRET_ARN });

      await store({ recoveryWindowDays: 30 }).discard(CLIENT_ID);

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(DeleteSecretCommand)[0]!.args[0].input).toEqual({ SecretId: NAME, ForceDeleteWithoutRecovery: true });
    });

    it('treats a secret that does not exist as discarded, and rethrows anything else', async () => {
      sm.on(DeleteSecretCommand).rejectsOnce(sdkError(ResourceNotFoundException, "Secrets Manager can't find the specified secret."));
      await expect(store().discard(CLIENT_ID)).resolves.toBeUndefined();

      const denied = named('AccessDeniedException');
      sm.on(DeleteSecretCommand).rejects(denied);
      await expect(store().discard(CLIENT_ID)).rejects.toBe(denied);
    });
  });
});
