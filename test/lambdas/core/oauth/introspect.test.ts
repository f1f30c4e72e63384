import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { ConsumerCache } from '../../../../lambdas/core/oauth/consumer-cache.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { INTROSPECT_SCOPE, introspect, revoke, verifyOwnToken } from '../../../../lambdas/core/oauth/introspect.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken, type MintedToken } from '../../../../lambdas/core/tokens/mint.js';
import { SigningKeyCache } from '../../../../lambdas/core/tokens/signing-keys.js';
import { sha256B64u } from '../../../../lambdas/core/util/hash.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, NOW } from '../../fixtures.js';
import { ISSUER, TOKEN_AUDIENCE } from '../../handlers/fixtures.js';
import { clientKey, coreServices, JWT_BEARER, keyBoundConsumer, NOW_S, signAssertion, type ClientKey, type CoreServices } from './fixtures.js';

const RESOURCE_SERVER = 'gh_resourceserver000';
const RS_SECRET = 'resource-server-secret-that-is-long-enough';
const OTHER_CLIENT = 'gh_otherclient000000';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const asResourceServer = basic(RESOURCE_SERVER, RS_SECRET);

let services: CoreServices;
let deps: { consumers: ConsumerCache; keys: SigningKeyCache };
let foreignKey: { kid: string; key: CryptoKey };

beforeAll(async () => {
  const foreign = await generateSigningKey();
  foreignKey = { kid: foreign.kid, key: (await importJWK(foreign.privateJwk as JWK, 'ES256')) as CryptoKey };
});

beforeEach(() => {
  services = coreServices();
  deps = { consumers: new ConsumerCache(services.consumers, services.clock, 0), keys: new SigningKeyCache(services.vault, services.clock) };
  services.registry.put(consumerFixture());
  services.registry.put(consumerFixture({ clientId: RESOURCE_SERVER, tier: 'internal', scopes: [INTROSPECT_SCOPE], secretHash: sha256B64u(RS_SECRET) }));
  services.registry.put(consumerFixture({ clientId: OTHER_CLIENT }));
});

/** A token as the token endpoint would mint it for `clientId`. */
const mint = async (clientId = CLIENT_ID, extra: { jkt?: string; ttlSeconds?: number } = {}): Promise<MintedToken> =>
  mintAccessToken(await deps.keys.current(), {
    issuer: ISSUER,
    audience: TOKEN_AUDIENCE,
    clientId,
    scopes: ['reference-data:read'],
    ttlSeconds: extra.ttlSeconds ?? 3600,
    now: services.clock.now(),
    extra: { tier: 'public', risk: 'low' },
    ...(extra.jkt ? { jkt: extra.jkt } : {}),
  });

const inspect = (token: string | undefined, authorization: string | undefined = asResourceServer) =>
  introspect(services, deps, { authorization, form: new URLSearchParams(token === undefined ? {} : { token }) });

const revokeAs = (token: string | undefined, authorization = basic(CLIENT_ID, CLIENT_SECRET), hint?: string) =>
  revoke(services, deps, {
    authorization,
    form: new URLSearchParams({ ...(token === undefined ? {} : { token }), ...(hint === undefined ? {} : { token_type_hint: hint }) }),
  });

async function refused(attempt: Promise<unknown>): Promise<OAuthError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OAuthError);
  return error as OAuthError;
}

describe('introspect', () => {
  it('describes an active token to a caller holding tokens:introspect', async () => {
    const minted = await mint();

    await expect(inspect(minted.token)).resolves.toEqual({
      active: true,
      scope: 'reference-data:read',
      client_id: CLIENT_ID,
      sub: CLIENT_ID,
      aud: TOKEN_AUDIENCE,
      iss: ISSUER,
      exp: NOW_S + 3600,
      iat: NOW_S,
      jti: minted.jti,
      token_type: 'Bearer',
      tier: 'public',
      risk: 'low',
    });
  });

  it('reports a DPoP-bound token with its confirmation', async () => {
    const minted = await mint(CLIENT_ID, { jkt: 'thumbprint-1' });

    await expect(inspect(minted.token)).resolves.toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: 'thumbprint-1' } });
  });

  it('reports the owner’s tier and risk as they are now', async () => {
    const minted = await mint();
    services.registry.patch(CLIENT_ID, { tier: 'partner', risk: 'medium' });

    await expect(inspect(minted.token)).resolves.toMatchObject({ active: true, tier: 'partner', risk: 'medium' });
  });

  it('authenticates a key-bound resource server by its assertion', async () => {
    const key: ClientKey = await clientKey('EdDSA');
    services.registry.put(keyBoundConsumer([key], { clientId: RESOURCE_SERVER, tier: 'internal', scopes: [INTROSPECT_SCOPE] }));
    const assertion = await signAssertion(key, { iss: RESOURCE_SERVER, sub: RESOURCE_SERVER, aud: `${ISSUER}/oauth2/introspect` });
    const minted = await mint();

    const answer = await introspect(services, deps, {
      authorization: undefined,
      form: new URLSearchParams({ token: minted.token, client_assertion_type: JWT_BEARER, client_assertion: assertion }),
    });

    expect(answer).toMatchObject({ active: true, jti: minted.jti });
  });

  it.each([
    ['is not a JWT', async () => 'garbage'],
    ['is signed by a key Gatehouse does not publish', async () => (await mintAccessToken(foreignKey, tokenClaims())).token],
  ])('answers active false for a token that %s', async (_name, make) => {
    await expect(inspect(await make())).resolves.toEqual({ active: false });
  });

  it('answers active false for a token of another issuer signed with our key', async () => {
    const minted = await mintAccessToken(await deps.keys.current(), { ...tokenClaims(), issuer: 'https://other-as.example' });

    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it('answers active false for a JWT that is not an access token (typ)', async () => {
    const { kid, key } = await deps.keys.current();
    const idToken = await new SignJWT({ client_id: CLIENT_ID })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(ISSUER)
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .setJti('j')
      .sign(key);

    await expect(inspect(idToken)).resolves.toEqual({ active: false });
  });

  it('answers active false once the token has expired, with no grace', async () => {
    const minted = await mint(CLIENT_ID, { ttlSeconds: 300 });
    services.clock.advance(299_000);
    await expect(inspect(minted.token)).resolves.toMatchObject({ active: true });

    services.clock.advance(1_000);

    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it.each([
    ['suspended', { status: 'suspended' }],
    ['revoked', { status: 'revoked' }],
    ['expired', { status: 'expired' }],
    ['past its grant expiry', { expiresAt: NOW.toISOString() }],
  ] satisfies [string, Partial<Consumer>][])('answers active false once the token’s consumer is %s', async (_name, changes) => {
    const minted = await mint();
    await expect(inspect(minted.token)).resolves.toMatchObject({ active: true });

    services.registry.patch(CLIENT_ID, changes);

    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it('answers active false when the token’s consumer no longer exists', async () => {
    const minted = await mint('gh_deleted0000000000');

    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it('reads the owner fresh even when the caller cache is warm', async () => {
    deps = { ...deps, consumers: new ConsumerCache(services.registry, services.clock, 60_000) };
    const minted = await mint();
    await inspect(minted.token);
    // The owner was read through the cache once; now suspend it and make sure the cache is not consulted.
    await deps.consumers.get(CLIENT_ID);
    services.registry.patch(CLIENT_ID, { status: 'suspended' });

    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it('refuses a caller without tokens:introspect as unauthorized_client', async () => {
    const minted = await mint();

    const error = await refused(inspect(minted.token, basic(CLIENT_ID, CLIENT_SECRET)));

    expect(error).toMatchObject({ code: 'unauthorized_client', message: expect.stringContaining(INTROSPECT_SCOPE) });
  });

  it('refuses an unauthenticated caller as invalid_client', async () => {
    const minted = await mint();

    await expect(inspect(minted.token, basic(RESOURCE_SERVER, 'wrong'))).rejects.toMatchObject({ code: 'invalid_client' });
    await expect(introspect(services, deps, { authorization: undefined, form: new URLSearchParams({ token: minted.token }) })).rejects.toMatchObject({
      code: 'invalid_client',
    });
  });

  it('refuses a suspended caller as invalid_client', async () => {
    services.registry.patch(RESOURCE_SERVER, { status: 'suspended' });

    await expect(inspect((await mint()).token)).rejects.toMatchObject({ code: 'invalid_client' });
  });

  it('refuses a request without token as invalid_request', async () => {
    await expect(inspect(undefined)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(inspect('')).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('revoke', () => {
  it('marks the token revoked until it would have expired, and lists it for resource servers as long', async () => {
    const minted = await mint();

    await revokeAs(minted.token);

    expect([...services.registry.markers]).toEqual([[`revoked:${minted.jti}`, minted.expiresAt]]);
    expect([...services.registry.revokedTokens]).toEqual([[minted.jti, minted.expiresAt]]);
    await expect(inspect(minted.token)).resolves.toEqual({ active: false });
  });

  it('accepts the access_token hint', async () => {
    const minted = await mint();

    await revokeAs(minted.token, undefined, 'access_token');

    expect(services.registry.markers.has(`revoked:${minted.jti}`)).toBe(true);
  });

  it('answers success when the token is revoked twice', async () => {
    const minted = await mint();
    await revokeAs(minted.token);

    await expect(revokeAs(minted.token)).resolves.toBeUndefined();
    expect(services.registry.markers.size).toBe(1);
  });

  it.each([
    ['is not a JWT', async () => 'garbage'],
    ['is not signed by Gatehouse', async () => (await mintAccessToken(foreignKey, tokenClaims())).token],
  ])('answers success and writes nothing for a token that %s', async (_name, make) => {
    await expect(revokeAs(await make())).resolves.toBeUndefined();
    expect(services.registry.markers.size).toBe(0);
  });

  it('answers success and writes nothing for an expired token', async () => {
    const minted = await mint(CLIENT_ID, { ttlSeconds: 60 });
    services.clock.advance(60_000);

    await expect(revokeAs(minted.token)).resolves.toBeUndefined();
    expect(services.registry.markers.size).toBe(0);
  });

  it('refuses to revoke another client’s token', async () => {
    const minted = await mint(OTHER_CLIENT);

    const error = await refused(revokeAs(minted.token));

    expect(error).toMatchObject({ code: 'unauthorized_client' });
    expect(services.registry.markers.size).toBe(0);
    await expect(inspect(minted.token)).resolves.toMatchObject({ active: true });
  });

  it('refuses an unauthenticated caller and writes nothing', async () => {
    const minted = await mint();

    await expect(revokeAs(minted.token, basic(CLIENT_ID, 'wrong'))).rejects.toMatchObject({ code: 'invalid_client' });
    expect(services.registry.markers.size).toBe(0);
  });

  it('refuses a request without token as invalid_request', async () => {
    await expect(revokeAs(undefined)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(services.registry.markers.size).toBe(0);
  });

  // RFC 7009 §2.1: the hint only guides the search, so an access token sent with a refresh_token hint is still revoked.
  it('revokes an access token sent with a refresh_token hint', async () => {
    const minted = await mint();

    await revokeAs(minted.token, undefined, 'refresh_token');

    expect(services.registry.markers.has(`revoked:${minted.jti}`)).toBe(true);
  });
});

describe('verifyOwnToken', () => {
  it('returns the claims of a token Gatehouse signed', async () => {
    const minted = await mint();

    await expect(verifyOwnToken(services, deps.keys, minted.token)).resolves.toMatchObject({ jti: minted.jti, client_id: CLIENT_ID });
  });

  it('returns undefined for anything else', async () => {
    await expect(verifyOwnToken(services, deps.keys, 'x.y.z')).resolves.toBeUndefined();
  });
});

function tokenClaims() {
  return {
    issuer: ISSUER,
    audience: TOKEN_AUDIENCE,
    clientId: CLIENT_ID,
    scopes: ['reference-data:read'],
    ttlSeconds: 3600,
    now: NOW,
  };
}
