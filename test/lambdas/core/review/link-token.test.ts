import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyOwnToken } from '../../../../lambdas/core/oauth/introspect.js';
import { ReviewError } from '../../../../lambdas/core/review/errors.js';
import { linkKeyOverlapMs, reviewLinkKeysFor, signReviewLink, verifyReviewLink, type ReviewLinkClaims } from '../../../../lambdas/core/review/link-token.js';
import { rotateSigningKeyFully } from '../../../../lambdas/core/rotation/signing-key-rotation.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken } from '../../../../lambdas/core/tokens/mint.js';
import { previousOverlapMs, SigningKeyCache, signingKeysFor } from '../../../../lambdas/core/tokens/signing-keys.js';
import { CLIENT_ID, HOUR_MS, NOW, recordingLog } from '../../fixtures.js';
import { ISSUER, TOKEN_AUDIENCE } from '../../handlers/fixtures.js';
import { coreServices, type CoreServices } from '../oauth/fixtures.js';
import { ALICE, DEADLINE, REVIEW_ID } from './fixtures.js';
import { vaultOver } from '../../../../lambdas/core/tokens/public-keys.js';

const CLAIMS: ReviewLinkClaims = { reviewId: REVIEW_ID, reviewer: ALICE, linkId: 'link-alice' };
const NOW_S = Math.floor(NOW.getTime() / 1000);

let services: CoreServices;
let keys: SigningKeyCache;
let foreignKey: { kid: string; key: CryptoKey };

beforeAll(async () => {
  const foreign = await generateSigningKey();
  foreignKey = { kid: foreign.kid, key: (await importJWK(foreign.privateJwk as JWK, 'ES256')) as CryptoKey };
});

beforeEach(() => {
  services = coreServices();
  keys = new SigningKeyCache(services.vault, services.clock);
});

const sign = (claims: ReviewLinkClaims = CLAIMS, expiresAt: Date = DEADLINE) => signReviewLink(keys, ISSUER, claims, expiresAt, NOW);
const verify = (token: string, reviewId = REVIEW_ID, now = NOW) => verifyReviewLink(keys, ISSUER, token, reviewId, now);

/** A token with the link's claims, signed with `key` under another header or claims. */
async function forge(
  options: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: { kid: string; key: CryptoKey } } = {},
): Promise<string> {
  const key = options.key ?? (await keys.current());
  return new SignJWT({ rid: REVIEW_ID, iss: ISSUER, aud: `${ISSUER}/reviews`, sub: ALICE, jti: 'link-alice', iat: NOW_S, exp: NOW_S + 3600, ...options.claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'gatehouse-review+jwt', kid: key.kid, ...options.header })
    .sign(key.key);
}

async function refusal(attempt: Promise<unknown>): Promise<ReviewError> {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReviewError);
  return error as ReviewError;
}

describe('signReviewLink', () => {
  it('signs a review-typed token bound to one reviewer, one link and one review, expiring with the deadline', async () => {
    const token = await sign();

    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'gatehouse-review+jwt', kid: (await keys.current()).kid });
    expect(decodeJwt(token)).toEqual({
      rid: REVIEW_ID,
      iss: ISSUER,
      aud: `${ISSUER}/reviews`,
      sub: ALICE,
      jti: 'link-alice',
      iat: NOW_S,
      exp: Math.floor(DEADLINE.getTime() / 1000),
    });
  });
});

describe('verifyReviewLink', () => {
  it('returns the claims of a link it signed', async () => {
    await expect(verify(await sign())).resolves.toEqual(CLAIMS);
  });

  it('accepts a link until just before it expires', async () => {
    await expect(verify(await sign(), REVIEW_ID, new Date(DEADLINE.getTime() - 1000))).resolves.toEqual(CLAIMS);
  });

  it.each([
    ['at the deadline', 0],
    ['after the deadline', HOUR_MS],
  ])('refuses a link %s as link_expired', async (_case, after) => {
    const error = await refusal(verify(await sign(), REVIEW_ID, new Date(DEADLINE.getTime() + after)));

    expect(error.code).toBe('link_expired');
  });

  it('refuses a link for another review as link_invalid', async () => {
    const error = await refusal(verify(await sign(), 'another-review'));

    expect(error.code).toBe('link_invalid');
  });

  it('refuses an access token signed with the same key', async () => {
    const access = await mintAccessToken(await keys.current(), {
      issuer: ISSUER,
      audience: `${ISSUER}/reviews`,
      clientId: CLIENT_ID,
      scopes: ['reference-data:read'],
      ttlSeconds: 3600,
      now: NOW,
      extra: { rid: REVIEW_ID },
    });

    expect((await refusal(verify(access.token))).code).toBe('link_invalid');
  });

  it.each([
    ['typ JWT', { typ: 'JWT' }],
    ['typ at+jwt', { typ: 'at+jwt' }],
    ['typ dpop+jwt', { typ: 'dpop+jwt' }],
    ['no typ', { typ: undefined }],
  ])('refuses a token with the link’s claims and %s', async (_case, header) => {
    expect((await refusal(verify(await forge({ header })))).code).toBe('link_invalid');
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example' }],
    ['another audience', { aud: ISSUER }],
    ['no review id', { rid: undefined }],
    ['no subject', { sub: undefined }],
    ['no link id', { jti: undefined }],
    ['no expiry', { exp: undefined }],
  ])('refuses a token with %s', async (_case, claims) => {
    expect((await refusal(verify(await forge({ claims })))).code).toBe('link_invalid');
  });

  it('accepts a well-formed forgery only when it is signed with the vault’s key (control for the cases above)', async () => {
    await expect(verify(await forge())).resolves.toEqual(CLAIMS);
  });

  it('refuses a link signed with a key the vault does not hold, even under its kid', async () => {
    const kid = (await keys.current()).kid;

    expect((await refusal(verify(await forge({ key: { kid, key: foreignKey.key } })))).code).toBe('link_invalid');
    expect((await refusal(verify(await forge({ key: foreignKey })))).code).toBe('link_invalid');
  });

  it('refuses a link whose signature was tampered with', async () => {
    const [header, payload, signature] = (await sign()).split('.');
    const flipped = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;

    expect((await refusal(verify(`${header}.${payload}.${flipped}`))).code).toBe('link_invalid');
  });

  it('refuses a link whose reviewer was swapped under the original signature', async () => {
    const [header, payload, signature] = (await sign()).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const swapped = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory@evil.example' })).toString('base64url');

    expect((await refusal(verify(`${header}.${swapped}.${signature}`))).code).toBe('link_invalid');
  });

  it('does not blame the link when the signing keys cannot be read', async () => {
    const token = await sign();
    const broken = new SigningKeyCache(
      vaultOver(() => Promise.reject(new Error('Secrets Manager unavailable'))),
      services.clock,
    );

    const error = await verifyReviewLink(broken, ISSUER, token, REVIEW_ID, NOW).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ReviewError);
  });

  it.each(['', 'not-a-jwt', 'a.b.c'])('refuses garbage %j as link_invalid', async (token) => {
    expect((await refusal(verify(token))).code).toBe('link_invalid');
  });
});

describe('verifyOwnToken (introspection) against review links', () => {
  it('does not accept a review link as an access token', async () => {
    await expect(verifyOwnToken(services, keys, await sign())).resolves.toBeUndefined();
  });

  it('does not accept a review link that also carries client_id (control: an access token passes)', async () => {
    const link = await forge({ claims: { client_id: CLIENT_ID } });
    const access = await mintAccessToken(await keys.current(), {
      issuer: ISSUER,
      audience: TOKEN_AUDIENCE,
      clientId: CLIENT_ID,
      scopes: ['reference-data:read'],
      ttlSeconds: 3600,
      now: NOW,
    });

    await expect(verifyOwnToken(services, keys, link)).resolves.toBeUndefined();
    await expect(verifyOwnToken(services, keys, access.token)).resolves.toMatchObject({ client_id: CLIENT_ID });
  });
});

describe('review links across a signing-key rotation', () => {
  const PUBLISH_DELAY_MS = 15 * 60_000;

  it('verifies a link issued before a rotation until its review deadline, long after JWKS has retired the key that signed it', async () => {
    // review-task signs with the signing keys as they are; the link lives for the round's 72-hour SLA.
    const link = await signReviewLink(signingKeysFor(services), ISSUER, CLAIMS, DEADLINE, NOW);
    await rotateSigningKeyFully(randomUUID(), {
      secret: services.vault.secret,
      publicKeys: services.vault.publicKeys,
      now: services.clock.now(),
      publishDelayMs: PUBLISH_DELAY_MS,
      previousOverlapMs: previousOverlapMs(services.policy),
      log: recordingLog(),
    });
    // Past the new key's activation and the access-token overlap (65 minutes): JWKS no longer has the old key.
    services.clock.advance(PUBLISH_DELAY_MS + 2 * HOUR_MS);
    const published = await signingKeysFor(services).jwks();
    expect(published.keys.map((k) => k.kid)).not.toContain(decodeProtectedHeader(link).kid);
    await expect(verifyReviewLink(signingKeysFor(services), ISSUER, link, REVIEW_ID, services.clock.now())).rejects.toMatchObject({ code: 'link_invalid' });

    // The review function's keys still verify it, until the deadline.
    await expect(verifyReviewLink(reviewLinkKeysFor(services), ISSUER, link, REVIEW_ID, services.clock.now())).resolves.toEqual(CLAIMS);
    const beforeDeadline = new Date(DEADLINE.getTime() - 60_000);
    services.clock.advance(beforeDeadline.getTime() - services.clock.now().getTime());
    await expect(verifyReviewLink(reviewLinkKeysFor(services), ISSUER, link, REVIEW_ID, services.clock.now())).resolves.toEqual(CLAIMS);
    await expect(verifyReviewLink(reviewLinkKeysFor(services), ISSUER, link, REVIEW_ID, new Date(DEADLINE.getTime() + 1000))).rejects.toMatchObject({
      code: 'link_expired',
    });
  });

  it("keeps the previous key for the policy's longest review SLA plus 5 minutes", () => {
    expect(linkKeyOverlapMs(services.policy)).toBe((72 * 3600 + 300) * 1000);
  });
});
