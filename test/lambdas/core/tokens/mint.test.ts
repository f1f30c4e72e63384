import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../../../lambdas/core/ports.js';
import { generateSigningKey } from '../../../../lambdas/core/tokens/generate-key.js';
import { mintAccessToken } from '../../../../lambdas/core/tokens/mint.js';
import { NOW } from '../../fixtures.js';

let signing: SigningKey;
let key: CryptoKey;

beforeAll(async () => {
  signing = await generateSigningKey();
  key = (await importJWK(signing.privateJwk as JWK, 'ES256')) as CryptoKey;
});

describe('mintAccessToken', () => {
  it('signs an RFC 9068 access token with the claims given', async () => {
    const minted = await mintAccessToken(
      { kid: signing.kid, key },
      {
        issuer: 'https://gatehouse.test',
        audience: 'https://api.bank.test',
        clientId: 'gh_x',
        scopes: ['a:read', 'b:read'],
        ttlSeconds: 300,
        now: NOW,
        extra: { tier: 'partner', risk: 'high' },
      },
    );

    expect(decodeProtectedHeader(minted.token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: signing.kid });
    const { payload } = await jwtVerify(minted.token, await importJWK(signing.publicJwk as JWK, 'ES256'), {
      issuer: 'https://gatehouse.test',
      audience: 'https://api.bank.test',
      typ: 'at+jwt',
      currentDate: NOW,
    });
    const iat = Math.floor(NOW.getTime() / 1000);
    expect(payload).toEqual({
      iss: 'https://gatehouse.test',
      aud: 'https://api.bank.test',
      sub: 'gh_x',
      client_id: 'gh_x',
      scope: 'a:read b:read',
      tier: 'partner',
      risk: 'high',
      iat,
      exp: iat + 300,
      jti: minted.jti,
    });
    expect(minted.expiresAt).toBe(iat + 300);
  });

  it('does not let extra claims override the registered ones', async () => {
    const minted = await mintAccessToken(
      { kid: signing.kid, key },
      { issuer: 'i', audience: 'a', clientId: 'gh_x', scopes: ['s'], ttlSeconds: 60, now: NOW, extra: { client_id: 'gh_evil', sub: 'gh_evil', scope: 'all' } },
    );

    expect(decodeJwt(minted.token)).toMatchObject({ client_id: 'gh_x', sub: 'gh_x', scope: 's' });
  });
});
