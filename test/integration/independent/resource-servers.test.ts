import { generateKeyPairSync } from 'node:crypto';
import { OAuth2Client } from '@badgateway/oauth2-client';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import jwt from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from '../local-mode.js';
import { listen, resourceServer, type RunningApp } from './express-app.js';

// Resource servers built on verifiers by other authors than the ones Gatehouse uses: Auth0's express-oauth2-jwt-bearer
// (strict RFC 9068 profile), and Auth0's jwks-rsa with jsonwebtoken (signature checked by the jws package, not jose).

const AUDIENCE = 'https://accounts.api.bank.test';

let plane: LocalControlPlane;
const apps: RunningApp[] = [];

beforeAll(async () => {
  plane = await startTestPlane({ tokenAudience: AUDIENCE });
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await plane?.close();
});

/** A low-risk public consumer's access token, obtained with @badgateway/oauth2-client. */
async function gatehouseToken(): Promise<{ token: string; clientId: string }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  const clientId = String(reg.json['client_id']);
  const client = new OAuth2Client({
    server: plane.url,
    clientId,
    clientSecret: String(reg.json['client_secret']),
    authenticationMethod: 'client_secret_basic',
  });
  return { token: (await client.clientCredentials({ scope: ['reference-data:read'] })).accessToken, clientId };
}

function call(app: RunningApp, path: string, token?: string): Promise<Response> {
  // fetch sets no Authorization header of its own: a resource request carries the token the way RFC 6750 section 2.1 says.
  return fetch(`${app.url}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** The token with its payload replaced by `changes` applied, the original signature kept. */
function tampered(token: string, changes: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  const claims = { ...(JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>), ...changes };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

/** The same claims and kid, signed by a key Gatehouse never published. */
function forged(token: string): string {
  const { header, payload } = jwt.decode(token, { complete: true }) as jwt.Jwt;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return jwt.sign(payload as jwt.JwtPayload, privateKey, { algorithm: 'ES256', header });
}

describe('a resource server protected by express-oauth2-jwt-bearer (strict RFC 9068 mode)', () => {
  let api: RunningApp;

  beforeAll(async () => {
    api = await listen(
      resourceServer((app) => {
        // Discovers Gatehouse's RFC 8414 metadata (issuer, jwks_uri) from the issuer URL.
        app.use(auth({ issuerBaseURL: plane.url, audience: AUDIENCE, tokenSigningAlg: 'ES256', strict: true }));
        app.get('/rates', requiredScopes('reference-data:read'), (req, res) => {
          res.json({ sub: req.auth?.payload.sub, typ: req.auth?.header.typ });
        });
        app.get('/accounts', requiredScopes('accounts:read'), (_req, res) => {
          res.json({ accounts: [] });
        });
      }),
    );
    apps.push(api);
  });

  it('serves a request with a Gatehouse access token that carries the required scope', async () => {
    const { token, clientId } = await gatehouseToken();

    const res = await call(api, '/rates', token);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: clientId, typ: 'at+jwt' });
  });

  it('answers 403 insufficient_scope when the token lacks the route scope', async () => {
    const { token } = await gatehouseToken();

    const res = await call(api, '/accounts', token);

    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'insufficient_scope' });
    expect(res.headers.get('www-authenticate')).toContain('scope="accounts:read"');
  });

  it('answers 401 with a Bearer challenge and no error code when no token came', async () => {
    const res = await call(api, '/rates');

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api"/);
    expect(res.headers.get('www-authenticate')).not.toContain('error=');
  });

  it('answers 401 invalid_token for a tampered scope', async () => {
    const { token } = await gatehouseToken();

    const res = await call(api, '/accounts', tampered(token, { scope: 'reference-data:read accounts:read' }));

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });

  it('answers 401 invalid_token when the token was minted for another audience', async () => {
    const other = await listen(
      resourceServer((app) => {
        app.use(auth({ issuerBaseURL: plane.url, audience: 'https://payments.api.bank.test', tokenSigningAlg: 'ES256', strict: true }));
        app.get('/rates', (_req, res) => {
          res.json({});
        });
      }),
    );
    apps.push(other);
    const { token } = await gatehouseToken();

    const res = await call(other, '/rates', token);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });
});

describe('a resource server verifying with jwks-rsa and jsonwebtoken', () => {
  let api: RunningApp;

  beforeAll(async () => {
    // The JWKS location comes from Gatehouse's RFC 8414 metadata, as a resource server would configure it.
    const metadata = (await (await fetch(`${plane.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string; jwks_uri: string };
    expect(metadata.issuer).toBe(plane.url);
    const keys = jwksClient({ jwksUri: metadata.jwks_uri });

    api = await listen(
      resourceServer((app) => {
        app.get('/rates', (req, res, next) => {
          void (async () => {
            const refuse = (status: number, code: string) =>
              Object.assign(new Error(code), { status, code, headers: { 'WWW-Authenticate': `Bearer realm="api", error="${code}"` } });
            const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
            if (!token) return next(Object.assign(new Error('no token'), { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } }));
            let verified: jwt.Jwt;
            try {
              const kid = jwt.decode(token, { complete: true })?.header.kid;
              const key = await keys.getSigningKey(kid);
              verified = jwt.verify(token, key.getPublicKey(), { algorithms: ['ES256'], issuer: metadata.issuer, audience: AUDIENCE, complete: true });
            } catch {
              return next(refuse(401, 'invalid_token'));
            }
            // RFC 9068 section 4: only a JWT typed as an access token is one.
            if (verified.header.typ !== 'at+jwt') return next(refuse(401, 'invalid_token'));
            const payload = verified.payload as jwt.JwtPayload;
            if (!String(payload['scope']).split(' ').includes('reference-data:read')) return next(refuse(403, 'insufficient_scope'));
            res.json({ sub: payload.sub, client_id: payload['client_id'], alg: verified.header.alg, typ: verified.header.typ });
          })();
        });
      }),
    );
    apps.push(api);
  });

  it('accepts a Gatehouse token: ES256, issuer, audience, typ at+jwt and scope checked', async () => {
    const { token, clientId } = await gatehouseToken();

    const res = await call(api, '/rates', token);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: clientId, client_id: clientId, alg: 'ES256', typ: 'at+jwt' });
  });

  it('refuses a token whose claims were changed after signing', async () => {
    const { token } = await gatehouseToken();

    const res = await call(api, '/rates', tampered(token, { sub: 'gh_someoneelse000000', client_id: 'gh_someoneelse000000' }));

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });

  it('refuses a token signed by a key Gatehouse did not publish, even under a published kid', async () => {
    const { token } = await gatehouseToken();

    const forgery = forged(token);
    expect(jwt.decode(forgery, { complete: true })?.header).toEqual(jwt.decode(token, { complete: true })?.header);

    const res = await call(api, '/rates', forgery);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });

  it('refuses a request without a token', async () => {
    const res = await call(api, '/rates');

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });
});
