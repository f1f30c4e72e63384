import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it, vi, type Mock } from 'vitest';
import {
  AUTHORIZER_ENV,
  AuthorizerConfigError,
  authorizerConfigFromEnv,
  createAuthorizerHandler,
  type AuthorizerHandler,
  type AuthorizerLog,
  type AuthorizerOptions,
} from '../../../lambdas/verifier/authorizer.js';

const NOW = new Date('2030-01-15T10:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const ISSUER = 'https://gatehouse.bank.example/v1';
const AUDIENCE = 'https://api.bank.example';
const CLIENT_ID = 'gh_resourceclient0001';
const KID = 'gatehouse-2030-01';
const HOST = 'api.bank.example';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/GET/accounts/42';

const ROUTE_SCOPES = {
  'GET /accounts/{id}': ['accounts:read'],
  'POST /payments': ['payments:write'],
  'ANY /health/{proxy+}': [],
};

interface Keys {
  readonly signing: CryptoKey;
  readonly jwks: JSONWebKeySet;
  /** A key Gatehouse never published, advertised under the same kid. */
  readonly impostor: CryptoKey;
  readonly dpop: { readonly privateKey: CryptoKey; readonly jwk: JWK; readonly jkt: string };
}
let keys: Keys;

beforeAll(async () => {
  const signing = await generateKeyPair('ES256', { extractable: true });
  const impostor = await generateKeyPair('ES256');
  const dpop = await generateKeyPair('ES256', { extractable: true });
  const dpopJwk = await exportJWK(dpop.publicKey);
  keys = {
    signing: signing.privateKey,
    jwks: { keys: [{ ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'ES256', use: 'sig' }] },
    impostor: impostor.privateKey,
    dpop: { privateKey: dpop.privateKey, jwk: dpopJwk, jkt: await calculateJwkThumbprint(dpopJwk, 'sha256') },
  };
});

/** An access token shaped like the ones Gatehouse mints (RFC 9068). */
async function accessToken(
  claims: JWTPayload = {},
  options: { key?: CryptoKey; typ?: string; iat?: number; exp?: number; kid?: string } = {},
): Promise<string> {
  const iat = options.iat ?? NOW_S;
  const payload = {
    iss: ISSUER,
    sub: CLIENT_ID,
    client_id: CLIENT_ID,
    aud: AUDIENCE,
    scope: 'accounts:read',
    iat,
    exp: options.exp ?? iat + 300,
    jti: randomUUID(),
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: options.typ ?? 'at+jwt', kid: options.kid ?? KID }).sign(options.key ?? keys.signing);
}

/** An RFC 9449 proof for one request, bound to `token` by `ath`. */
async function dpopProof(token: string, htm: string, htu: string): Promise<string> {
  return new SignJWT({ htm, htu, ath: createHash('sha256').update(token).digest('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: keys.dpop.jwk })
    .setIssuedAt(NOW_S)
    .setJti(randomUUID())
    .sign(keys.dpop.privateKey);
}

/** A REST API REQUEST authorizer event for `GET /v1/accounts/42` (resource `/accounts/{id}`) unless overridden. */
function requestEvent(
  headers: Record<string, string>,
  overrides: Partial<Pick<APIGatewayRequestAuthorizerEvent, 'httpMethod' | 'resource' | 'path' | 'methodArn'>> = {},
): APIGatewayRequestAuthorizerEvent {
  const path = overrides.path ?? '/accounts/42';
  return {
    type: 'REQUEST',
    methodArn: overrides.methodArn ?? METHOD_ARN,
    resource: overrides.resource ?? '/accounts/{id}',
    path,
    httpMethod: overrides.httpMethod ?? 'GET',
    headers: { Host: HOST, 'X-Forwarded-Proto': 'https', ...headers },
    multiValueHeaders: null,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: { path: `/v1${path}`, domainName: HOST, stage: 'v1' } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

type RecordingLog = { readonly [K in keyof AuthorizerLog]: Mock<AuthorizerLog[K]> };

function recordingLog(): RecordingLog {
  return { info: vi.fn<AuthorizerLog['info']>(), warn: vi.fn<AuthorizerLog['warn']>() };
}

function authorizer(overrides: Partial<AuthorizerOptions> = {}): { handler: AuthorizerHandler; log: RecordingLog } {
  const log = recordingLog();
  const handler = createAuthorizerHandler({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: keys.jwks,
    routeScopes: ROUTE_SCOPES,
    now: () => NOW,
    log,
    ...overrides,
  });
  return { handler, log };
}

const statement = (effect: 'Allow' | 'Deny', resource = METHOD_ARN) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
});

describe('createAuthorizerHandler', () => {
  describe("with a valid bearer token carrying the route's scopes", () => {
    it('allows exactly the method called, naming the client and passing its scopes as context', async () => {
      const token = await accessToken({ scope: 'accounts:read payments:read' });
      const result = await authorizer().handler(requestEvent({ Authorization: `Bearer ${token}` }));
      expect(result).toEqual({
        principalId: CLIENT_ID,
        policyDocument: statement('Allow'),
        context: { clientId: CLIENT_ID, scope: 'accounts:read payments:read' },
      });
    });

    it('reads the Authorization header whatever its case', async () => {
      const token = await accessToken();
      const result = await authorizer().handler(requestEvent({ authorization: `Bearer ${token}` }));
      expect(result.policyDocument).toEqual(statement('Allow'));
    });

    it('allows a route whose resource is configured for ANY method, and a route that requires no scope', async () => {
      const token = await accessToken({ scope: '' });
      const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/DELETE/health/deep/check';
      const result = await authorizer().handler(
        requestEvent({ Authorization: `Bearer ${token}` }, { httpMethod: 'DELETE', resource: '/health/{proxy+}', path: '/health/deep/check', methodArn: arn }),
      );
      expect(result).toEqual({ principalId: CLIENT_ID, policyDocument: statement('Allow', arn), context: { clientId: CLIENT_ID, scope: '' } });
    });
  });

  describe('with a DPoP-bound token', () => {
    it('allows the request with a proof for this method and URL, and passes the key thumbprint as jkt', async () => {
      const token = await accessToken({ cnf: { jkt: keys.dpop.jkt } });
      const proof = await dpopProof(token, 'GET', `https://${HOST}/v1/accounts/42`);
      const result = await authorizer().handler(requestEvent({ Authorization: `DPoP ${token}`, DPoP: proof }));
      expect(result).toEqual({
        principalId: CLIENT_ID,
        policyDocument: statement('Allow'),
        context: { clientId: CLIENT_ID, scope: 'accounts:read', jkt: keys.dpop.jkt },
      });
    });

    it('checks htu against the public base URL when one is configured', async () => {
      const token = await accessToken({ cnf: { jkt: keys.dpop.jkt } });
      const proof = await dpopProof(token, 'GET', 'https://payments.bank.example/api/accounts/42');
      const { handler } = authorizer({ publicBaseUrl: 'https://payments.bank.example/api' });
      await expect(handler(requestEvent({ Authorization: `DPoP ${token}`, DPoP: proof }))).resolves.toMatchObject({ policyDocument: statement('Allow') });
    });

    it('refuses it as Unauthorized without a proof', async () => {
      const token = await accessToken({ cnf: { jkt: keys.dpop.jkt } });
      await expect(authorizer().handler(requestEvent({ Authorization: `DPoP ${token}` }))).rejects.toThrow(/^Unauthorized$/);
    });

    it('refuses it as Unauthorized when presented as a bearer token', async () => {
      const token = await accessToken({ cnf: { jkt: keys.dpop.jkt } });
      const proof = await dpopProof(token, 'GET', `https://${HOST}/v1/accounts/42`);
      await expect(authorizer().handler(requestEvent({ Authorization: `Bearer ${token}`, DPoP: proof }))).rejects.toThrow(/^Unauthorized$/);
    });

    it('refuses it as Unauthorized with a proof for another URL, or a proof replayed', async () => {
      const token = await accessToken({ cnf: { jkt: keys.dpop.jkt } });
      const { handler } = authorizer();
      const elsewhere = await dpopProof(token, 'GET', `https://${HOST}/v1/accounts/43`);
      await expect(handler(requestEvent({ Authorization: `DPoP ${token}`, DPoP: elsewhere }))).rejects.toThrow(/^Unauthorized$/);
      const proof = await dpopProof(token, 'GET', `https://${HOST}/v1/accounts/42`);
      await expect(handler(requestEvent({ Authorization: `DPoP ${token}`, DPoP: proof }))).resolves.toMatchObject({ principalId: CLIENT_ID });
      await expect(handler(requestEvent({ Authorization: `DPoP ${token}`, DPoP: proof }))).rejects.toThrow(/^Unauthorized$/);
    });
  });

  describe('with insufficient scope', () => {
    it('denies the method, naming the client, and logs the missing scope without the token', async () => {
      const token = await accessToken({ scope: 'accounts:read' });
      const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/POST/payments';
      const { handler, log } = authorizer();
      const result = await handler(
        requestEvent({ Authorization: `Bearer ${token}` }, { httpMethod: 'POST', resource: '/payments', path: '/payments', methodArn: arn }),
      );
      expect(result).toEqual({
        principalId: CLIENT_ID,
        policyDocument: statement('Deny', arn),
        context: { clientId: CLIENT_ID, error: 'insufficient_scope' },
      });
      expect(log.info).toHaveBeenCalledWith('authorizer.denied', {
        route: 'POST /payments',
        error: 'insufficient_scope',
        clientId: CLIENT_ID,
        missing: ['payments:write'],
      });
      expect(JSON.stringify([log.info.mock.calls, log.warn.mock.calls])).not.toContain(token);
    });
  });

  describe('with a missing or invalid token', () => {
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ['no Authorization header', async () => ({})],
      ['an Authorization header without a token', async () => ({ Authorization: 'Bearer' })],
      ['a Basic credential', async () => ({ Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })],
      ['an expired token', async () => ({ Authorization: `Bearer ${await accessToken({}, { iat: NOW_S - 3600, exp: NOW_S - 60 })}` })],
      ['a token with a bad signature', async () => ({ Authorization: `Bearer ${await accessToken({}, { key: keys.impostor })}` })],
      ['a token signed by an unknown key', async () => ({ Authorization: `Bearer ${await accessToken({}, { kid: 'unknown' })}` })],
      ['a token for another audience', async () => ({ Authorization: `Bearer ${await accessToken({ aud: 'https://other.bank.example' })}` })],
      ['a token from another issuer', async () => ({ Authorization: `Bearer ${await accessToken({ iss: 'https://evil.example' })}` })],
      ['a JWT that is not an access token (typ)', async () => ({ Authorization: `Bearer ${await accessToken({}, { typ: 'JWT' })}` })],
      ['a token without client_id', async () => ({ Authorization: `Bearer ${await accessToken({ client_id: undefined })}` })],
      ['a token that is not a JWT', async () => ({ Authorization: 'Bearer not-a-jwt' })],
    ];

    it.each(cases)('throws Unauthorized for %s', async (_name, headers) => {
      const { handler, log } = authorizer();
      const h = await headers();
      await expect(handler(requestEvent(h))).rejects.toThrow(new Error('Unauthorized'));
      expect(log.info).toHaveBeenCalledWith('authorizer.unauthorized', expect.objectContaining({ route: 'GET /accounts/{id}', error: expect.any(String) }));
      const token = h.Authorization?.split(' ')[1];
      if (token) expect(JSON.stringify(log.info.mock.calls)).not.toContain(token);
    });
  });

  describe('for a route that is not in the map', () => {
    it('denies it (fail closed) even with a valid token that has every scope', async () => {
      const token = await accessToken({ scope: 'accounts:read payments:write admin' });
      const arn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123defg/v1/GET/admin';
      const { handler, log } = authorizer();
      const result = await handler(requestEvent({ Authorization: `Bearer ${token}` }, { resource: '/admin', path: '/admin', methodArn: arn }));
      expect(result).toEqual({ principalId: 'anonymous', policyDocument: statement('Deny', arn), context: { error: 'route_not_configured' } });
      expect(log.warn).toHaveBeenCalledWith('authorizer.route_not_configured', { route: 'GET /admin' });
    });

    it('denies another method on a configured resource', async () => {
      const token = await accessToken();
      const result = await authorizer().handler(requestEvent({ Authorization: `Bearer ${token}` }, { httpMethod: 'DELETE' }));
      expect(result.policyDocument).toEqual(statement('Deny'));
    });
  });
});

describe('authorizerConfigFromEnv', () => {
  const env = (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
    [AUTHORIZER_ENV.issuer]: ISSUER,
    [AUTHORIZER_ENV.audience]: AUDIENCE,
    [AUTHORIZER_ENV.routeScopes]: JSON.stringify(ROUTE_SCOPES),
    ...overrides,
  });

  it("reads issuer, audience and route scopes, and defaults the JWKS to the issuer's", () => {
    const config = authorizerConfigFromEnv(env());
    expect(config).toMatchObject({ issuer: ISSUER, audience: AUDIENCE, routeScopes: ROUTE_SCOPES, publicBaseUrl: undefined });
    expect(config.jwks).toEqual(new URL(`${ISSUER}/.well-known/jwks.json`));
  });

  it("always checks the revocation list, at the issuer's by default, with the refresh and staleness given", () => {
    expect(authorizerConfigFromEnv(env()).revocations).toEqual({ url: new URL(`${ISSUER}/oauth2/revocations`) });
    const config = authorizerConfigFromEnv(
      env({
        [AUTHORIZER_ENV.revocationsUri]: 'https://lists.bank.example/revocations',
        [AUTHORIZER_ENV.revocationRefreshSeconds]: '10',
        [AUTHORIZER_ENV.revocationMaxStaleSeconds]: '60',
      }),
    );
    expect(config.revocations).toEqual({ url: new URL('https://lists.bank.example/revocations'), refreshSeconds: 10, maxStaleSeconds: 60 });
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.revocationRefreshSeconds]: '0' }))).toThrow(new RegExp(AUTHORIZER_ENV.revocationRefreshSeconds));
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.revocationsUri]: 'http://lists.bank.example/revocations' }))).toThrow(
      new RegExp(`${AUTHORIZER_ENV.revocationsUri}: must be an https URL`),
    );
  });

  it('takes an empty public base URL as none, and refuses one that is not a URL or an empty audience', () => {
    expect(authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.publicBaseUrl]: '' })).publicBaseUrl).toBeUndefined();
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.publicBaseUrl]: 'api.bank.example' }))).toThrow(new RegExp(AUTHORIZER_ENV.publicBaseUrl));
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.audience]: '' }))).toThrow(new RegExp(AUTHORIZER_ENV.audience));
  });

  it('takes an explicit JWKS URI and public base URL', () => {
    const config = authorizerConfigFromEnv(
      env({ [AUTHORIZER_ENV.jwksUri]: 'https://keys.bank.example/jwks', [AUTHORIZER_ENV.publicBaseUrl]: 'https://api.bank.example/v1' }),
    );
    expect(config.jwks).toEqual(new URL('https://keys.bank.example/jwks'));
    expect(config.publicBaseUrl).toBe('https://api.bank.example/v1');
  });

  it('fails with every issue named when the environment is unusable', () => {
    const read = () =>
      authorizerConfigFromEnv(
        env({ [AUTHORIZER_ENV.issuer]: 'not a url', [AUTHORIZER_ENV.audience]: undefined, [AUTHORIZER_ENV.routeScopes]: '{"/accounts": ["a b"]}' }),
      );
    expect(read).toThrow(AuthorizerConfigError);
    expect(read).toThrow(new RegExp(`${AUTHORIZER_ENV.issuer}: `));
    expect(read).toThrow(new RegExp(`${AUTHORIZER_ENV.audience}: `));
    expect(read).toThrow(/must be "METHOD \/resource\/path"/);
    expect(read).toThrow(/must be an RFC 6749 scope token/);
  });

  it('refuses a JWKS URI over plain HTTP', () => {
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.jwksUri]: 'http://gatehouse.bank.example/v1/.well-known/jwks.json' }))).toThrow(
      new RegExp(`${AUTHORIZER_ENV.jwksUri}: must be an https URL`),
    );
  });

  it('fails when the route scopes are missing or not JSON', () => {
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.routeScopes]: undefined }))).toThrow(AuthorizerConfigError);
    expect(() => authorizerConfigFromEnv(env({ [AUTHORIZER_ENV.routeScopes]: '{' }))).toThrow(/is not valid JSON/);
  });
});
