import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretsManagerStagedSecret } from '../../../../lambdas/adapters/aws/secrets-staged-secret.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-signing-key-AbCdEf';
const CURRENT_ID = '11111111-1111-4111-8111-111111111111';
const TOKEN = '22222222-2222-4222-8222-222222222222';
const sm = mockClient(SecretsManagerClient);

const secret = () => new SecretsManagerStagedSecret(SECRET_ID, new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG));
const notFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING", $metadata: {} });

describe('SecretsManagerStagedSecret', () => {
  afterEach(() => {
    sm.reset();
  });

  describe('versions', () => {
    it('lists every version with its staging labels from DescribeSecret', async () => {
      sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { [CURRENT_ID]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });

      await expect(secret().versions()).resolves.toEqual([
        { versionId: CURRENT_ID, stages: ['AWSCURRENT'] },
        { versionId: TOKEN, stages: ['AWSPENDING'] },
      ]);

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(DescribeSecretCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID });
    });

    it('lists no versions when DescribeSecret returns none', async () => {
      sm.on(DescribeSecretCommand).resolves({});

      await expect(secret().versions()).resolves.toEqual([]);
    });

    it('propagates a DescribeSecret failure, a missing secret included', async () => {
      sm.on(DescribeSecretCommand).rejects(notFound());

      await expect(secret().versions()).rejects.toBeInstanceOf(ResourceNotFoundException);
    });
  });

  describe('read', () => {
    it('reads a version by id', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: '{"kid":"a"}' });

      await expect(secret().read({ versionId: TOKEN })).resolves.toBe('{"kid":"a"}');

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID, VersionId: TOKEN });
    });

    it('reads a version by staging label', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: '{"kid":"b"}' });

      await expect(secret().read({ stage: 'AWSPREVIOUS' })).resolves.toBe('{"kid":"b"}');

      expect(sm.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({ SecretId: SECRET_ID, VersionStage: 'AWSPREVIOUS' });
    });

    it.each([{ versionId: TOKEN }, { stage: 'AWSPENDING' }])('returns undefined when %o is absent', async (selector) => {
      sm.on(GetSecretValueCommand).rejects(notFound());

      await expect(secret().read(selector)).resolves.toBeUndefined();
    });

    it('returns undefined for a version without a string value', async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

      await expect(secret().read({ stage: 'AWSCURRENT' })).resolves.toBeUndefined();
    });

    it('propagates any other failure', async () => {
      const denied = Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
      sm.on(GetSecretValueCommand).rejects(denied);

      await expect(secret().read({ stage: 'AWSCURRENT' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });
  });

  describe('putPending', () => {
    it('puts the value as a version with the token as its id, labelled AWSPENDING only', async () => {
      sm.on(PutSecretValueCommand).resolves({ VersionId: TOKEN, VersionStages: ['AWSPENDING'] });

      await secret().putPending(TOKEN, '{"kid":"c"}');

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({
        SecretId: SECRET_ID,
        ClientRequestToken: TOKEN,
        SecretString: '{"kid":"c"}',
        VersionStages: ['AWSPENDING'],
      });
    });

    it('propagates a conflict with an existing version of another value', async () => {
      sm.on(PutSecretValueCommand).rejects(new ResourceExistsException({ message: 'A resource with the ID you requested already exists.', $metadata: {} }));

      await expect(secret().putPending(TOKEN, '{"kid":"d"}')).rejects.toBeInstanceOf(ResourceExistsException);
    });
  });

  describe('promote', () => {
    it('moves AWSCURRENT from the old version to the new one', async () => {
      sm.on(UpdateSecretVersionStageCommand).resolves({});

      await secret().promote(TOKEN, CURRENT_ID);

      expect(sm.calls()).toHaveLength(1);
      expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
        SecretId: SECRET_ID,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: TOKEN,
        RemoveFromVersionId: CURRENT_ID,
      });
    });

    it('propagates a failure', async () => {
      sm.on(UpdateSecretVersionStageCommand).rejects(new Error('InvalidParameterException'));

      await expect(secret().promote(TOKEN, CURRENT_ID)).rejects.toThrow('InvalidParameterException');
    });
  });
});
