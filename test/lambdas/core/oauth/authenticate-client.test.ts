import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { authenticateClient, ENDPOINT_PATHS, type ClientEndpoint } from '../../../../lambdas/core/oauth/authenticate-client.js';
import { ConsumerCache } from '../../../../lambdas/core/oauth/consumer-cache.js';
import { OAuthError } from '../../../../lambdas/core/oauth/errors.js';
import { RemoteKeySetCache } from '../../../../lambdas/core/remote-jwks/cache.js';
import { RemoteKeySetError } from '../../../../lambdas/core/remote-jwks/errors.js';
import { sha256B64u } from '../../../../lambdas/core/util/hash.js';
import { CLIENT_ID, CLIENT_SECRET, consumerFixture, DAY_MS, NOW } from '../../fixtures.js';
import { ISSUER } from '../../handlers/fixtures.js';
import { policyWith } from '../policy/fixtures.js';
import {
  assertionClaims,
  clientKey,
  coreServices,
  JWT_BEARER,
  keyBoundConsumer,
  NOW_S,
  signAssertion,
  unsignedJwt,
  type ClientKey,
  type CoreServices,
} from './fixtures.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('authenticateClient', () => {
  let key: ClientKey;
  let services: CoreServices;
  let consumers: ConsumerCache;

  beforeAll(async () => {
    key = await clientKey('ES256');
  });

  beforeEach(() => {
    services = coreServices();
    consumers = new ConsumerCache(services.consumers, services.clock, 0);
  });

  const seed = (consumer: Consumer) => services.registry.put(consumer);

  const authenticate = (form: Record<string, string> | URLSearchParams, authorization?: string, endpoint: ClientEndpoint = 'token') =>
    authenticateClient(services, consumers, { authorization, form: form instanceof URLSearchParams ? form : new URLSearchParams(form), endpoint });

  const withAssertion = async (changes: Record<string, unknown> = {}, endpoint: ClientEndpoint = 'token') =>
    authenticate({ client_assertion_type: JWT_BEARER, client_assertion: await signAssertion(key, changes) }, undefined, endpoint);

  async function refused(attempt: Promise<unknown>): Promise<OAuthError> {
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OAuthError);
    return error as OAuthError;
  }

  describe('private_key_jwt', () => {
    beforeEach(() => seed(keyBoundConsumer([key])));

    it.each(Object.keys(ENDPOINT_PATHS) as ClientEndpoint[])('authenticates at %s with an assertion addressed to the issuer', async (endpoint) => {
      const consumer = await withAssertion({ aud: ISSUER }, endpoint);

      expect(consumer.clientId).toBe(CLIENT_ID);
      expect([...services.registry.markers.keys()]).toEqual([expect.stringMatching(new RegExp(`^assertion:${CLIENT_ID}:`))]);
    });

    it.each(Object.entries(ENDPOINT_PATHS) as [ClientEndpoint, string][])('authenticates at %s with an assertion addressed to %s', async (endpoint, path) => {
      await expect(withAssertion({ aud: `${ISSUER}${path}` }, endpoint)).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it.each([
      ['introspect', '/oauth2/token'],
      ['revoke', '/oauth2/introspect'],
      ['token', '/oauth2/revoke'],
    ] as [ClientEndpoint, string][])('refuses at %s an assertion addressed to %s', async (endpoint, path) => {
      const error = await refused(withAssertion({ aud: `${ISSUER}${path}` }, endpoint));

      expect(error).toMatchObject({ code: 'invalid_client' });
      expect(services.registry.markers.size).toBe(0);
    });

    it('refuses a client secret for a key-bound client before looking at the secret', async () => {
      const error = await refused(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET)));

      expect(error).toMatchObject({ code: 'invalid_client', challenge: 'Basic', message: 'Client authentication failed.' });
    });

    it('refuses client_secret_post for a key-bound client', async () => {
      const error = await refused(authenticate({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }));

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.', challenge: 'client_secret_post' });
    });

    it.each([
      ['a replayed or foreign-audience assertion', { aud: 'https://elsewhere.example' }],
      ['an expired assertion', { exp: NOW_S - 120 }],
    ])('challenges a failed assertion (%s) with private_key_jwt, never Basic', async (_name, changes) => {
      const error = await refused(withAssertion(changes));

      expect(error).toMatchObject({ code: 'invalid_client', challenge: 'private_key_jwt' });
    });

    it('takes the longest assertion lifetime from the policy', async () => {
      const hour = { iat: NOW_S, exp: NOW_S + 3600 };
      const refusal = await refused(withAssertion(hour));
      expect(refusal.message).toBe('Client assertions may live at most 300 seconds; this one lives 3600 seconds.');

      services = { ...services, policy: policyWith((doc) => void (doc.clientAssertions.maxLifetimeSeconds = 3600)) };
      await expect(withAssertion(hour)).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('refuses a key-bound client with no registered keys', async () => {
      seed(keyBoundConsumer([], { jwks: undefined }));

      const error = await refused(withAssertion());

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
      expect(services.registry.markers.size).toBe(0);
    });

    describe('with keys at jwks_uri', () => {
      const JWKS_URI = 'https://keys.partner.example/jwks';
      const remote = (answer: () => Promise<unknown>) => new RemoteKeySetCache({ fetchJson: answer }, services.clock, 600);
      beforeEach(() => seed(keyBoundConsumer([], { jwks: undefined, jwksUri: JWKS_URI })));

      it('verifies the assertion with the keys the URI publishes', async () => {
        const keys = remote(() => Promise.resolve({ keys: [key.registered] }));
        const form = new URLSearchParams({ client_assertion_type: JWT_BEARER, client_assertion: await signAssertion(key) });

        await expect(authenticateClient(services, consumers, { authorization: undefined, form, endpoint: 'token' }, keys)).resolves.toMatchObject({
          clientId: CLIENT_ID,
        });
      });

      it('answers a key set that cannot be fetched like a wrong key, logging the reason', async () => {
        const keys = remote(() => Promise.reject(new RemoteKeySetError('timeout', 'jwks_uri did not answer completely within 3000 ms')));
        const form = new URLSearchParams({ client_assertion_type: JWT_BEARER, client_assertion: await signAssertion(key) });

        const error = await refused(authenticateClient(services, consumers, { authorization: undefined, form, endpoint: 'token' }, keys));

        expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.', challenge: 'private_key_jwt' });
        expect(services.log.info).toHaveBeenCalledWith('client authentication failed', {
          clientId: CLIENT_ID,
          method: 'private_key_jwt',
          reason: 'jwks_uri: jwks_uri did not answer completely within 3000 ms',
        });
        expect(services.log.warn).toHaveBeenCalledWith('client key set unavailable', {
          clientId: CLIENT_ID,
          reason: 'timeout',
          detail: 'jwks_uri did not answer completely within 3000 ms',
        });
        expect(services.registry.markers.size).toBe(0);
      });

      it('refuses, with the reason logged, where no fetcher is configured', async () => {
        const error = await refused(withAssertion());

        expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
        expect(services.log.info).toHaveBeenCalledWith(
          'client authentication failed',
          expect.objectContaining({ reason: 'keys at jwks_uri, which this endpoint cannot fetch' }),
        );
      });
    });

    it('refuses a replayed assertion', async () => {
      const assertion = await signAssertion(key);
      const form = { client_assertion_type: JWT_BEARER, client_assertion: assertion };
      await authenticate(form);

      const error = await refused(authenticate(form));

      expect(error).toMatchObject({ code: 'invalid_client' });
      expect(services.registry.markers.size).toBe(1);
    });

    it.each([
      ['signed by a key the client did not register', async () => signAssertion(await clientKey('ES256', key.kid))],
      ['under a kid the client did not register', async () => signAssertion(await clientKey('ES256', 'other-kid'))],
      ['with an algorithm Gatehouse refuses', async () => unsignedJwt(assertionClaims())],
    ])('answers an assertion %s exactly as one from an unknown client', async (_name, make) => {
      const assertion = await make();
      const unknownId = 'gh_nobody00000000000';
      const forUnknown = await refused(
        authenticate({ client_assertion_type: JWT_BEARER, client_assertion: await signAssertion(key, { iss: unknownId, sub: unknownId }) }),
      );

      const forKnown = await refused(authenticate({ client_assertion_type: JWT_BEARER, client_assertion: assertion }));

      expect(forKnown).toMatchObject({ code: forUnknown.code, challenge: forUnknown.challenge, message: forUnknown.message });
      expect(forKnown.message).toBe('Client authentication failed.');
      expect(services.registry.markers.size).toBe(0);
    });

    it('tells a claim problem only to the holder of the key', async () => {
      const error = await refused(withAssertion({ aud: 'https://elsewhere.example' }));

      expect(error.message).toBe('The client assertion was refused: claim "aud" is not acceptable.');
    });

    it('refuses an assertion for an unknown client without claiming its jti', async () => {
      const error = await refused(withAssertion({ iss: 'gh_nobody00000000000', sub: 'gh_nobody00000000000' }));

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
      expect(services.registry.markers.size).toBe(0);
    });

    it.each([
      ['suspended', { status: 'suspended' }],
      ['revoked', { status: 'revoked' }],
      ['pending review', { status: 'pending_review' }],
      ['past its grant expiry', { expiresAt: new Date(NOW.getTime() - 1000).toISOString() }],
    ] satisfies [string, Partial<Consumer>][])('refuses a key-bound client %s after checking its assertion', async (_name, overrides) => {
      seed(keyBoundConsumer([key], overrides));

      const error = await refused(withAssertion());

      expect(error).toMatchObject({ code: 'invalid_client' });
      // The status is told only to a client that proved who it is; its assertion is spent.
      expect(services.registry.markers.size).toBe(1);
    });

    it('reads the keys the client holds now, not a cached copy', async () => {
      const rotated = await clientKey('EdDSA', 'rotated');
      seed(keyBoundConsumer([rotated]));

      await expect(withAssertion()).rejects.toMatchObject({ code: 'invalid_client' });
      const assertion = await signAssertion(rotated);
      await expect(authenticate({ client_assertion_type: JWT_BEARER, client_assertion: assertion })).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('uses the injected clock for expiry', async () => {
      services.clock.advance(120_000);

      await expect(withAssertion({ exp: NOW_S + 30 })).rejects.toMatchObject({ code: 'invalid_client', message: expect.stringContaining('expired') });
    });
  });

  describe('client secrets', () => {
    beforeEach(() => seed(consumerFixture()));

    it('authenticates a client_secret_basic client', async () => {
      await expect(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET))).resolves.toMatchObject({ clientId: CLIENT_ID, authMethod: 'client_secret_basic' });
    });

    it('authenticates a client_secret_post client only by that method', async () => {
      seed(consumerFixture({ authMethod: 'client_secret_post' }));

      await expect(authenticate({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET })).resolves.toMatchObject({ clientId: CLIENT_ID });
      const error = await refused(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET)));
      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
    });

    it('refuses an assertion from a secret-based client without verifying or claiming it', async () => {
      const error = await refused(withAssertion());

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
      expect(services.registry.markers.size).toBe(0);
    });

    it('refuses a wrong secret with a Basic challenge', async () => {
      const error = await refused(authenticate({}, basic(CLIENT_ID, 'wrong')));

      expect(error).toMatchObject({ code: 'invalid_client', challenge: 'Basic', message: 'Client authentication failed.' });
    });

    it('answers an unknown client exactly as a wrong secret', async () => {
      const unknown = await refused(authenticate({}, basic('gh_nobody', CLIENT_SECRET)));
      const wrong = await refused(authenticate({}, basic(CLIENT_ID, 'wrong')));

      expect(unknown.message).toBe(wrong.message);
    });

    it('refuses a client without a stored secret', async () => {
      seed(consumerFixture({ secretHash: undefined }));

      await expect(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET))).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it.each([
      ['suspended', { status: 'suspended' }, 'This client is suspended.'],
      ['pending review', { status: 'pending_review' }, 'This client is pending review.'],
      ['past its grant expiry', { expiresAt: NOW.toISOString() }, "This client's grant has expired."],
      ['holding an expired secret', { secretExpiresAt: NOW.toISOString() }, 'This client secret has expired.'],
    ] satisfies [string, Partial<Consumer>, string][])('refuses a client %s', async (_name, overrides, message) => {
      seed(consumerFixture(overrides));

      await expect(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET))).rejects.toMatchObject({ code: 'invalid_client', message });
    });
  });

  describe('rotated client secrets', () => {
    const CURRENT = 'the-secret-rotated-in-last-week-0123456789abcdef';
    const PENDING = 'the-secret-being-rotated-in-now-0123456789abcdef';
    const PREVIOUS = CLIENT_SECRET;
    const GRACE_ENDS = new Date(NOW.getTime() + 3 * DAY_MS);

    beforeEach(() =>
      seed(
        consumerFixture({
          secretHash: sha256B64u(CURRENT),
          pendingSecretHash: sha256B64u(PENDING),
          previousSecretHash: sha256B64u(PREVIOUS),
          previousSecretExpiresAt: GRACE_ENDS.toISOString(),
        }),
      ),
    );

    it.each([
      ['current', CURRENT],
      ['pending', PENDING],
    ])('accepts the %s secret without noting it', async (_, secret) => {
      await expect(authenticate({}, basic(CLIENT_ID, secret))).resolves.toMatchObject({ clientId: CLIENT_ID });

      expect(services.log.info).not.toHaveBeenCalledWith('client authenticated with its previous secret', expect.anything());
    });

    it('accepts the previous secret until its grace window ends, and logs each use', async () => {
      services.clock.advance(GRACE_ENDS.getTime() - NOW.getTime() - 1);

      await expect(authenticate({}, basic(CLIENT_ID, PREVIOUS))).resolves.toMatchObject({ clientId: CLIENT_ID });

      expect(services.log.info).toHaveBeenCalledWith('client authenticated with its previous secret', {
        clientId: CLIENT_ID,
        validUntil: GRACE_ENDS.toISOString(),
      });
    });

    it('accepts the previous secret by client_secret_post too', async () => {
      seed({ ...(await services.consumers.getConsumer(CLIENT_ID))!, authMethod: 'client_secret_post' });

      await expect(authenticate({ client_id: CLIENT_ID, client_secret: PREVIOUS })).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it.each([
      ['the moment its grace window ends', 0],
      ['after its grace window', DAY_MS],
    ])('refuses the previous secret %s, as any wrong secret', async (_, after) => {
      services.clock.advance(GRACE_ENDS.getTime() - NOW.getTime() + after);

      const error = await refused(authenticate({}, basic(CLIENT_ID, PREVIOUS)));

      expect(error).toMatchObject({ code: 'invalid_client', challenge: 'Basic', message: 'Client authentication failed.' });
      // The current secret is unaffected by the end of the grace window.
      await expect(authenticate({}, basic(CLIENT_ID, CURRENT))).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('refuses a previous secret that has no grace window recorded', async () => {
      seed(consumerFixture({ secretHash: sha256B64u(CURRENT), previousSecretHash: sha256B64u(PREVIOUS) }));

      await expect(authenticate({}, basic(CLIENT_ID, PREVIOUS))).rejects.toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
    });

    it.each([
      ['a random secret', 'a-random-secret-nobody-was-ever-given-0123456789'],
      ['the hash of the current secret', sha256B64u(CURRENT)],
      ['an empty secret', ''],
    ])('refuses %s', async (_, secret) => {
      await expect(authenticate({}, basic(CLIENT_ID, secret))).rejects.toMatchObject({ code: 'invalid_client' });
    });

    it('refuses the pending secret of a suspended client as suspended', async () => {
      seed({ ...(await services.consumers.getConsumer(CLIENT_ID))!, status: 'suspended' });

      await expect(authenticate({}, basic(CLIENT_ID, PENDING))).rejects.toMatchObject({ code: 'invalid_client', message: 'This client is suspended.' });
    });
  });

  describe('credentials retired by a change of method (RFC 7592 update)', () => {
    const UNTIL = new Date(NOW.getTime() + DAY_MS);

    it('accepts the secret a move to private_key_jwt retired, by either secret method, until its grace ends', async () => {
      seed(keyBoundConsumer([key], { previousSecretHash: sha256B64u(CLIENT_SECRET), previousSecretExpiresAt: UNTIL.toISOString() }));

      await expect(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET))).resolves.toMatchObject({ clientId: CLIENT_ID });
      await expect(authenticate({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET })).resolves.toMatchObject({ clientId: CLIENT_ID });
      expect(services.log.info).toHaveBeenCalledWith('client authenticated with a credential retired by a change of method', {
        clientId: CLIENT_ID,
        method: 'client_secret_basic',
      });

      services.clock.advance(DAY_MS);
      const error = await refused(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET)));
      expect(error).toMatchObject({ code: 'invalid_client', challenge: 'Basic', message: 'Client authentication failed.' });
      await expect(withAssertion({ iat: NOW_S + DAY_MS / 1000, exp: NOW_S + DAY_MS / 1000 + 60 })).resolves.toMatchObject({ clientId: CLIENT_ID });
    });

    it('accepts no other secret for a key-bound client, not even one recorded as current', async () => {
      seed(keyBoundConsumer([key], { secretHash: sha256B64u(CLIENT_SECRET) }));

      const error = await refused(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET)));

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
    });

    it('accepts an assertion signed with a key a move to a secret retired, until the key rollover grace ends', async () => {
      seed(consumerFixture({ retiredKeys: [{ key: key.registered, until: UNTIL.toISOString() }] }));

      await expect(withAssertion()).resolves.toMatchObject({ clientId: CLIENT_ID });
      await expect(authenticate({}, basic(CLIENT_ID, CLIENT_SECRET))).resolves.toMatchObject({ clientId: CLIENT_ID });

      services.clock.advance(DAY_MS);
      const error = await refused(withAssertion({ iat: NOW_S + DAY_MS / 1000, exp: NOW_S + DAY_MS / 1000 + 60 }));
      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
    });

    it('accepts no assertion for a secret-bound client from keys it still lists but does not authenticate with', async () => {
      seed(consumerFixture({ jwks: { keys: [key.registered] } }));

      const error = await refused(withAssertion());

      expect(error).toMatchObject({ code: 'invalid_client', message: 'Client authentication failed.' });
    });
  });

  describe('request shape', () => {
    it.each(['grant_type', 'scope', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type', 'token', 'token_type_hint'])(
      'refuses a repeated %s as invalid_request before reading the registry',
      async (name) => {
        seed(consumerFixture());
        const form = new URLSearchParams([
          [name, 'a'],
          [name, 'a'],
        ]);

        const error = await refused(authenticate(form, basic(CLIENT_ID, CLIENT_SECRET)));

        expect(error).toMatchObject({ code: 'invalid_request' });
        expect(services.registry.reads).toBe(0);
      },
    );

    it('refuses a request without credentials as invalid_client, offering every method', async () => {
      await expect(authenticate({ grant_type: 'client_credentials' })).rejects.toMatchObject({ code: 'invalid_client', challenge: 'client' });
      expect(services.registry.reads).toBe(0);
    });
  });
});
