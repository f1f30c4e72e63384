import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../../../lambdas/adapters/aws/lambda-credentials.js';

const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_PROFILE',
];

/** What the Lambda runtime sets for a function's role. */
function lambdaRoleEnvironment(): void {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAROLEKEY');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'role-secret');
  vi.stubEnv('AWS_SESSION_TOKEN', 'role-session-token');
}

describe('defaultProvider (the bundles’ replacement for the SDK default chain)', () => {
  beforeEach(() => {
    for (const name of CREDENTIAL_VARIABLES) vi.stubEnv(name, '');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns the role credentials the Lambda runtime puts in the environment', async () => {
    lambdaRoleEnvironment();
    await expect(defaultProvider()()).resolves.toMatchObject({
      accessKeyId: 'ASIAROLEKEY',
      secretAccessKey: 'role-secret',
      sessionToken: 'role-session-token',
    });
  });

  it('prefers the environment credentials when a container endpoint is also offered, as the SDK chain does', async () => {
    lambdaRoleEnvironment();
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', 'http://127.0.0.1:9/never-called');
    await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'ASIAROLEKEY' });
  });

  describe('with a container credentials endpoint and no environment credentials', () => {
    let server: Server;
    let seen: IncomingHttpHeaders[];
    beforeEach(async () => {
      seen = [];
      server = createServer((req, res) => {
        seen.push(req.headers);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ AccessKeyId: 'ASIACONTAINER', SecretAccessKey: 'container-secret', Token: 'container-token', Expiration: '2099-01-01T00:00:00Z' }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('fetches them from the endpoint with its authorization token', async () => {
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', `http://127.0.0.1:${(server.address() as AddressInfo).port}/creds`);
      vi.stubEnv('AWS_CONTAINER_AUTHORIZATION_TOKEN', 'endpoint-token');
      const credentials = await defaultProvider()();
      expect(credentials).toMatchObject({ accessKeyId: 'ASIACONTAINER', sessionToken: 'container-token' });
      expect(credentials.expiration).toEqual(new Date('2099-01-01T00:00:00Z'));
      expect(seen.map((h) => h.authorization)).toEqual(['endpoint-token']);
    });
  });

  it('fails with the SDK’s credentials error when neither is there, on the call and not before', async () => {
    const provider = defaultProvider();
    await expect(provider()).rejects.toMatchObject({ name: 'CredentialsProviderError' });
  });

  it('signs a real SDK client’s requests with the role credentials when the client takes it as its default chain', async () => {
    lambdaRoleEnvironment();
    const sent: Array<{ headers: Record<string, string> }> = [];
    const client = new DynamoDBClient({
      region: 'eu-west-1',
      credentialDefaultProvider: defaultProvider,
      requestHandler: {
        handle: async (request: { headers: Record<string, string> }) => {
          sent.push(request);
          return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Readable.from(['{}']) } };
        },
      },
    });
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } }));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAROLEKEY\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, /);
    expect(sent[0]!.headers['x-amz-security-token']).toBe('role-session-token');
  });
});
