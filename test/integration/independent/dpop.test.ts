import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  randomUUID,
  type JsonWebKey as NodeJwk,
} from 'node:crypto';
import * as DPoP from 'dpop';
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer';
import jwt from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { ClientCredentials } from 'simple-oauth2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from '../local-mode.js';
import { listen, resourceServer, type RunningApp } from './express-app.js';

// DPoP (RFC 9449) with proofs made by the npm dpop package and bound tokens checked by resource servers that share no
// code with Gatehouse's verifier: express-oauth2-jwt-bearer's DPoP support, and a check written here on node:crypto
// (jsonwebtoken has no Ed25519). The dpop package signs Ed25519 proofs as alg "Ed25519", RFC 9864's fully-specified name.

const AUDIENCE = 'https://accounts.api.bank.test';

let plane: LocalControlPlane;
let tokenEndpoint: string;
const apps: RunningApp[] = [];

beforeAll(async () => {
  plane = await startTestPlane({ tokenAudience: AUDIENCE });
  tokenEndpoint = `${plane.url}/oauth2/token`;
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await plane?.close();
});

const b64u = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const sha256B64u = (text: string) => createHash('sha256').update(text).digest('base64url');

/** RFC 7638 thumbprint, computed from the required members in lexicographic order. */
function thumbprint(jwk: NodeJwk): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return sha256B64u(JSON.stringify(members));
}

/** A low-risk public consumer (DPoP optional for it under the default policy) and a simple-oauth2 client for it. */
async function publicConsumer(): Promise<{ clientId: string; oauth: ClientCredentials }> {
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  expect(reg.json['dpop_bound_access_tokens']).toBe(false);
  const clientId = String(reg.json['client_id']);
  const oauth = new ClientCredentials({
    client: { id: clientId, secret: String(reg.json['client_secret']) },
    auth: { tokenHost: plane.url, tokenPath: '/oauth2/token' },
  });
  return { clientId, oauth };
}

/** A token request carrying a proof from the dpop package, the way RFC 9449 section 5 sends it. */
async function boundToken(oauth: ClientCredentials, keyPair: DPoP.KeyPair): Promise<Record<string, unknown>> {
  const proof = await DPoP.generateProof(keyPair, tokenEndpoint, 'POST');
  return (await oauth.getToken({ scope: 'reference-data:read' }, { headers: { DPoP: proof } })).token;
}

/** A protected-resource request with a DPoP-bound token and a fresh proof for it. */
async function callWithProof(url: string, token: string, keyPair: DPoP.KeyPair, proofToken = token): Promise<Response> {
  const proof = await DPoP.generateProof(keyPair, url, 'GET', undefined, proofToken);
  return fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } });
}

describe('DPoP proofs from the dpop package at the Gatehouse token endpoint', () => {
  it.each(['ES256', 'Ed25519'] as const)('binds the token to a %s key: token_type DPoP and cnf.jkt its RFC 7638 thumbprint', async (alg) => {
    const keyPair = await DPoP.generateKeyPair(alg);
    const { clientId, oauth } = await publicConsumer();

    const token = await boundToken(oauth, keyPair);

    expect(token).toMatchObject({ token_type: 'DPoP', scope: 'reference-data:read' });
    const { header, payload } = jwt.decode(String(token['access_token']), { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: clientId, aud: AUDIENCE, cnf: { jkt: await DPoP.calculateThumbprint(keyPair.publicKey) } });
  });

  it('is handed an Ed25519 proof whose alg is the fully-specified "Ed25519"', async () => {
    const proof = await DPoP.generateProof(await DPoP.generateKeyPair('Ed25519'), tokenEndpoint, 'POST');

    expect(JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString('utf8'))).toMatchObject({
      alg: 'Ed25519',
      typ: 'dpop+jwt',
      jwk: { kty: 'OKP', crv: 'Ed25519' },
    });
  });

  it('refuses a proof made for another endpoint with invalid_dpop_proof', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');
    const { oauth } = await publicConsumer();
    const proof = await DPoP.generateProof(keyPair, `${plane.url}/oauth2/introspect`, 'POST');

    const error = await oauth.getToken({ scope: 'reference-data:read' }, { headers: { DPoP: proof } }).then(
      () => undefined,
      (e: unknown) => e as { output: { statusCode: number }; data: { payload: Record<string, unknown> } },
    );

    expect(error?.output.statusCode).toBe(400);
    expect(error?.data.payload).toMatchObject({ error: 'invalid_dpop_proof' });
  });
});

describe('a DPoP-bound token at a resource server protected by express-oauth2-jwt-bearer (DPoP required)', () => {
  let api: RunningApp;

  beforeAll(async () => {
    api = await listen(
      resourceServer((app) => {
        app.use(auth({ issuerBaseURL: plane.url, audience: AUDIENCE, tokenSigningAlg: 'ES256', strict: true, dpop: { enabled: true, required: true } }));
        app.get('/rates', requiredScopes('reference-data:read'), (req, res) => {
          res.json({ jkt: (req.auth?.payload['cnf'] as { jkt?: string } | undefined)?.jkt });
        });
      }),
    );
    apps.push(api);
  });

  it('serves the request with a proof by the bound ES256 key', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');
    const { oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await callWithProof(`${api.url}/rates`, token, keyPair);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jkt: await DPoP.calculateThumbprint(keyPair.publicKey) });
  });

  it('refuses the token with a proof by another key', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');
    const { oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await callWithProof(`${api.url}/rates`, token, await DPoP.generateKeyPair('ES256'));

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });

  it('refuses the token without a proof', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');
    const { oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await fetch(`${api.url}/rates`, { headers: { authorization: `DPoP ${token}` } });

    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });
});

/**
 * The resource server's own RFC 9449 section 7 check, on node:crypto: the token verified with jwks-rsa + jsonwebtoken,
 * the proof's signature with the key in its header, then htm, htu, iat, ath and the thumbprint against cnf.jkt.
 */
function dpopCheckingApp(jwksUri: string): Promise<RunningApp> {
  const keys = jwksClient({ jwksUri });
  const refuse = (code: string) =>
    Object.assign(new Error(code), { status: 401, code, headers: { 'WWW-Authenticate': `DPoP error="${code}", algs="ES256 Ed25519"` } });
  return listen(
    resourceServer((app) => {
      app.get('/rates', (req, res, next) => {
        void (async () => {
          const token = /^DPoP (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
          const proof = req.headers.dpop;
          if (!token || typeof proof !== 'string') return next(refuse('invalid_request'));
          let claims: jwt.JwtPayload;
          try {
            const key = await keys.getSigningKey(jwt.decode(token, { complete: true })?.header.kid);
            const verified = jwt.verify(token, key.getPublicKey(), { algorithms: ['ES256'], issuer: plane.url, audience: AUDIENCE, complete: true });
            if (verified.header.typ !== 'at+jwt') throw new Error('not an access token');
            claims = verified.payload as jwt.JwtPayload;
          } catch {
            return next(refuse('invalid_token'));
          }
          const [h, p, s] = proof.split('.') as [string, string, string];
          const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { typ?: string; alg?: string; jwk?: NodeJwk };
          const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { htm?: string; htu?: string; iat?: number; ath?: string; jti?: string };
          if (header.typ !== 'dpop+jwt' || !header.jwk || 'd' in header.jwk) return next(refuse('invalid_dpop_proof'));
          const publicKey = createPublicKey({ key: header.jwk, format: 'jwk' });
          const signed = Buffer.from(`${h}.${p}`);
          const signature = Buffer.from(s, 'base64url');
          const valid =
            header.alg === 'ES256'
              ? cryptoVerify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)
              : header.alg === 'Ed25519' || header.alg === 'EdDSA'
                ? header.jwk.crv === 'Ed25519' && cryptoVerify(null, signed, publicKey, signature)
                : false;
          const now = Math.floor(Date.now() / 1000);
          if (
            !valid ||
            payload.htm !== 'GET' ||
            payload.htu !== `${req.protocol}://${req.get('host')}${req.path}` ||
            typeof payload.iat !== 'number' ||
            Math.abs(now - payload.iat) > 60 ||
            !payload.jti ||
            payload.ath !== sha256B64u(token)
          ) {
            return next(refuse('invalid_dpop_proof'));
          }
          if ((claims['cnf'] as { jkt?: string } | undefined)?.jkt !== thumbprint(header.jwk)) return next(refuse('invalid_token'));
          res.json({ sub: claims.sub, proofAlg: header.alg });
        })();
      });
    }),
  );
}

describe('a DPoP-bound token at a resource server checking the binding with node:crypto', () => {
  let api: RunningApp;

  beforeAll(async () => {
    api = await dpopCheckingApp(`${plane.url}/.well-known/jwks.json`);
    apps.push(api);
  });

  it.each(['ES256', 'Ed25519'] as const)('serves the request with a proof by the bound %s key', async (alg) => {
    const keyPair = await DPoP.generateKeyPair(alg);
    const { clientId, oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await callWithProof(`${api.url}/rates`, token, keyPair);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: clientId, proofAlg: alg });
  });

  it('refuses a proof by another Ed25519 key than the token is bound to', async () => {
    const keyPair = await DPoP.generateKeyPair('Ed25519');
    const { oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await callWithProof(`${api.url}/rates`, token, await DPoP.generateKeyPair('Ed25519'));

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_token' });
  });

  it('refuses a proof made for another access token (ath)', async () => {
    const keyPair = await DPoP.generateKeyPair('Ed25519');
    const { oauth } = await publicConsumer();
    const token = String((await boundToken(oauth, keyPair))['access_token']);
    const other = String((await boundToken(oauth, keyPair))['access_token']);

    const res = await callWithProof(`${api.url}/rates`, token, keyPair, other);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'invalid_dpop_proof' });
  });
});

describe('private_key_jwt with an Ed25519 key and alg "Ed25519" (RFC 9864), signed with node:crypto', () => {
  /** An RFC 7523 client assertion signed outside jose. */
  function assertion(privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'], kid: string, clientId: string, alg: 'Ed25519' | 'EdDSA'): string {
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${b64u(JSON.stringify({ alg, kid, typ: 'JWT' }))}.${b64u(JSON.stringify({ iss: clientId, sub: clientId, aud: plane.url, iat: now, exp: now + 60, jti: randomUUID() }))}`;
    return `${signingInput}.${b64u(cryptoSign(null, Buffer.from(signingInput), privateKey))}`;
  }

  it.each([
    ['Ed25519', 'Ed25519'],
    ['EdDSA', 'Ed25519'],
    ['Ed25519', 'EdDSA'],
  ] as const)('issues a token for an assertion signed as %s by a key registered under alg %s', async (signedAs, registeredAs) => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const kid = 'ed-1';
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: registeredAs, use: 'sig' }] },
      }),
    );
    expect(reg.status).toBe(201);
    const clientId = String(reg.json['client_id']);

    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion(privateKey, kid, clientId, signedAs),
      }),
    });

    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    expect(jwt.decode(body.access_token)).toMatchObject({ sub: clientId, scope: 'reference-data:read' });
  });

  it('refuses an assertion signed by another Ed25519 key under the registered kid', async () => {
    const registered = generateKeyPairSync('ed25519');
    const reg = await postJson(
      `${plane.url}/register`,
      publicRequest({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...registered.publicKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'Ed25519' }] },
      }),
    );
    const clientId = String(reg.json['client_id']);

    const res = await fetch(tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion(generateKeyPairSync('ed25519').privateKey, 'ed-1', clientId, 'Ed25519'),
      }),
    });

    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });
});
