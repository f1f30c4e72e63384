import * as DPoP from 'dpop';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

/** The policy's DPoP server nonce (RFC 9449 section 8), driven by panva's `dpop` client over HTTP. */

let plane: LocalControlPlane;
let basic: string;
let tokenEndpoint: string;

beforeAll(async () => {
  const policy = JSON.parse(readFileSync('policy/policy.json', 'utf8')) as { dpop: { serverNonce: boolean } };
  policy.dpop.serverNonce = true;
  const policyFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-nonce-')), 'policy.json');
  writeFileSync(policyFile, JSON.stringify(policy));
  plane = await startTestPlane({ policyFile });
  tokenEndpoint = `${plane.url}/oauth2/token`;
  const reg = await postJson(`${plane.url}/register`, publicRequest());
  expect(reg.status).toBe(201);
  basic = `Basic ${Buffer.from(`${String(reg.json['client_id'])}:${String(reg.json['client_secret'])}`).toString('base64')}`;
});
afterAll(async () => {
  await plane?.close();
});

async function token(proof: string | undefined) {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', ...(proof ? { dpop: proof } : {}) },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, nonce: res.headers.get('dpop-nonce'), json: (await res.json()) as Record<string, unknown> };
}

describe('DPoP server nonce (local mode over HTTP)', () => {
  it('answers a proof without a nonce with use_dpop_nonce and a DPoP-Nonce, and binds the token once the nonce is sent', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');

    const first = await token(await DPoP.generateProof(keyPair, tokenEndpoint, 'POST'));
    expect(first.status).toBe(400);
    expect(first.json).toMatchObject({ error: 'use_dpop_nonce' });
    expect(first.nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);

    const second = await token(await DPoP.generateProof(keyPair, tokenEndpoint, 'POST', first.nonce!));
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ token_type: 'DPoP' });
    // The next proof can use the nonce of the last response (RFC 9449 section 8.2).
    expect(second.nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);
    expect((await token(await DPoP.generateProof(keyPair, tokenEndpoint, 'POST', second.nonce!))).status).toBe(200);
  });

  it('refuses a nonce the server did not issue', async () => {
    const keyPair = await DPoP.generateKeyPair('ES256');
    const window = Math.floor(Date.now() / 1000 / 300);

    const forged = await token(await DPoP.generateProof(keyPair, tokenEndpoint, 'POST', `${window}.${'A'.repeat(22)}`));

    expect(forged.status).toBe(400);
    expect(forged.json).toMatchObject({ error: 'use_dpop_nonce' });
    expect(forged.nonce).not.toBeNull();
  });

  it('still issues Bearer tokens without a proof to a client the policy does not hold to DPoP', async () => {
    const res = await token(undefined);

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer' });
  });
});
