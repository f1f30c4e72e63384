import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey, parseSigningKey } from '../../../lambdas/core/tokens/generate-key.js';
import { parsePublicKeySet } from '../../../lambdas/core/tokens/public-keys.js';
import { createSigningKeyInitHandler } from '../../../lambdas/handlers/signing-key-init.js';
import { AWS_TEST_CLIENT_CONFIG } from '../fixtures.js';

const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-signing-key-AbCdEf';
const PUBLIC_SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:gatehouse-signing-public-keys-AbCdEf';
const SEED_TOKEN = 'gatehouse-initial-signing-key-version-0001';
const PLACEHOLDER = 'Qx7#generated-placeholder-from-cloudformation';
const sm = mockClient(SecretsManagerClient);

const handler = () => createSigningKeyInitHandler(new SecretsManagerClient(AWS_TEST_CLIENT_CONFIG));

function cfnEvent(requestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:init',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/gatehouse/1',
    RequestId: 'request-1',
    LogicalResourceId: 'SigningKeyInit',
    ResourceType: 'Custom::SigningKeyInit',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:init', SecretId: SECRET_ID },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  if (requestType === 'Update') return { ...common, RequestType: 'Update', PhysicalResourceId: SECRET_ID, OldResourceProperties: common.ResourceProperties };
  return { ...common, RequestType: 'Delete', PhysicalResourceId: SECRET_ID };
}

describe('createSigningKeyInitHandler', () => {
  afterEach(() => {
    sm.reset();
  });

  it.each(['Create', 'Update'] as const)('replaces the placeholder with an ES256 key on %s, with a fixed request token', async (type) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: PLACEHOLDER });
    sm.on(PutSecretValueCommand).resolves({});

    await expect(handler()(cfnEvent(type))).resolves.toEqual({ PhysicalResourceId: SECRET_ID });

    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: SECRET_ID }]);
    const puts = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ SecretId: SECRET_ID, ClientRequestToken: SEED_TOKEN });

    const key = parseSigningKey(puts[0]!.SecretString!);
    expect(key.privateJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid });
    expect(key.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: key.kid });
    expect(key.publicJwk).not.toHaveProperty('d');
    // The pair works: what the private half signs, the public half verifies.
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(await importJWK(key.privateJwk as JWK, 'ES256'));
    await expect(jwtVerify(jwt, await importJWK(key.publicJwk as JWK, 'ES256'))).resolves.toBeDefined();
  });

  it('leaves a secret that already holds a key alone', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(await generateSigningKey()) });

    await expect(handler()(cfnEvent('Create'))).resolves.toEqual({ PhysicalResourceId: SECRET_ID });

    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it.each(['Create', 'Update'] as const)('mirrors the public halves of the held key into the public-key secret on %s', async (type) => {
    const held = await generateSigningKey();
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: JSON.stringify(held) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves({ SecretString: JSON.stringify(held) });
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPENDING' }).rejects(
      new ResourceNotFoundException({ message: 'no such stage', $metadata: {} }),
    );
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSPREVIOUS' }).rejects(
      new ResourceNotFoundException({ message: 'no such stage', $metadata: {} }),
    );
    sm.on(PutSecretValueCommand).resolves({});
    const event = cfnEvent(type);

    await handler()({ ...event, ResourceProperties: { ...event.ResourceProperties, PublicSecretId: PUBLIC_SECRET_ID } });

    const puts = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.SecretId)).toEqual([PUBLIC_SECRET_ID]);
    expect(puts[0]!.SecretString).not.toMatch(/privateJwk|"d"/);
    expect(parsePublicKeySet(puts[0]!.SecretString!)).toEqual({ current: { kid: held.kid, publicJwk: held.publicJwk }, published: [] });
  });

  it('sends nothing on Delete', async () => {
    await expect(handler()(cfnEvent('Delete'))).resolves.toEqual({ PhysicalResourceId: SECRET_ID });

    expect(sm.calls()).toHaveLength(0);
  });

  it('succeeds when a concurrent run seeded first and the re-read holds a key', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: PLACEHOLDER })
      .resolves({ SecretString: JSON.stringify(await generateSigningKey()) });
    sm.on(PutSecretValueCommand).rejects(new ResourceExistsException({ message: 'A resource with the ID you requested already exists.', $metadata: {} }));

    await expect(handler()(cfnEvent('Create'))).resolves.toEqual({ PhysicalResourceId: SECRET_ID });

    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('fails with the put error when the re-read still holds no key', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: PLACEHOLDER });
    sm.on(PutSecretValueCommand).rejects(new Error('AccessDeniedException'));

    await expect(handler()(cfnEvent('Create'))).rejects.toThrow('AccessDeniedException');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
