import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { FileVault } from '../../lambdas/adapters/local/file-vault.js';
import { verifyChain } from '../../lambdas/core/audit/event.js';
import { SIGNING_KEY_AUDIT_STREAM } from '../../lambdas/core/rotation/signing-key-rotation.js';
import { generateSigningKey } from '../../lambdas/core/tokens/generate-key.js';
import { parsePublicKeySet } from '../../lambdas/core/tokens/public-keys.js';
import { postJson, publicRequest, startTestPlane } from './local-mode.js';

const MINUTE = 60_000;
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };
let plane: LocalControlPlane;

beforeAll(async () => {
  plane = await startTestPlane({ clock });
});
afterAll(async () => {
  await plane?.close();
});

async function jwks(): Promise<JSONWebKeySet> {
  return (await (await fetch(`${plane.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
}

async function token(basic: string): Promise<string> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function verifiesWithServedJwks(jwt: string): Promise<boolean> {
  try {
    await jwtVerify(jwt, createLocalJWKSet(await jwks()), { issuer: plane.url, currentDate: clock.now() });
    return true;
  } catch {
    return false;
  }
}

describe('local mode: signing-key rotation with overlap', () => {
  it('publishes the new key before it signs, keeps old tokens verifiable, then retires the old key', async () => {
    const reg = await postJson(`${plane.url}/register`, publicRequest());
    const basic = Buffer.from(`${String(reg.json['client_id'])}:${String(reg.json['client_secret'])}`).toString('base64');
    const oldToken = await token(basic);
    const oldKid = decodeProtectedHeader(oldToken).kid!;

    const version = await plane.rotateSigningKey(15 * 60);
    // The rotation is in the signing key's audit stream, hash-chained like a consumer's trail, and recorded once.
    const registry = plane.services.systemAudit;
    const stream = await registry.listSystemAudit(SIGNING_KEY_AUDIT_STREAM);
    expect(stream).toEqual([
      expect.objectContaining({
        clientId: 'system:signing-key',
        seq: 1,
        type: 'signing_key.rotated',
        actor: { kind: 'system', id: 'signing-key-rotation' },
        data: expect.objectContaining({ version }),
      }),
    ]);
    expect(verifyChain(stream).ok).toBe(true);
    // A second rotation now would push the old key out of JWKS while its tokens live: refused.
    await expect(plane.rotateSigningKey(15 * 60)).rejects.toMatchObject({ code: 'rotation_too_soon' });
    offset += 6 * MINUTE; // past every cache age (key cache 5 min, JWKS cache 1 min)

    // Published, not yet signing: the previous key still signs, both are in JWKS.
    const during = (await jwks()).keys.map((k) => k.kid);
    expect(during).toHaveLength(2);
    expect(during).toContain(oldKid);
    const newKid = during.find((k) => k !== oldKid)!;
    expect(decodeProtectedHeader(await token(basic)).kid).toBe(oldKid);
    expect(await verifiesWithServedJwks(oldToken)).toBe(true);

    // Activated: new tokens carry the new kid; the old token still verifies through the served JWKS.
    offset += 10 * MINUTE;
    const newToken = await token(basic);
    expect(decodeProtectedHeader(newToken).kid).toBe(newKid);
    expect(await verifiesWithServedJwks(oldToken)).toBe(true);
    expect(await verifiesWithServedJwks(newToken)).toBe(true);

    // After the longest token lifetime (+5 min), the old key is gone from JWKS.
    offset += 66 * MINUTE;
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    expect(await verifiesWithServedJwks(oldToken)).toBe(false);
    expect(await verifiesWithServedJwks(await token(basic))).toBe(true);
  });

  it('serves JWKS from the published public halves, a store apart from the private keys that holds no private member', async () => {
    const store = (plane.services.vault as FileVault).publicKeys;
    const published = await store.read();
    expect(published).toBeDefined();
    expect(published).not.toMatch(/privateJwk|"d"/);
    offset += 2 * MINUTE; // past the JWKS cache
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([parsePublicKeySet(published!).current.kid]);

    // Discovery reads that store, not the private key set: what is published there is what it serves.
    const other = await generateSigningKey();
    await store.write(JSON.stringify({ current: { kid: other.kid, publicJwk: other.publicJwk }, published: [] }));
    offset += 2 * MINUTE;
    try {
      expect((await jwks()).keys.map((k) => k.kid)).toEqual([other.kid]);
    } finally {
      await store.write(published!);
      offset += 2 * MINUTE;
    }
  });
});

describe('local mode: scheduled signing-key rotation', () => {
  let shift = 0;
  const shifted = { now: () => new Date(Date.now() + shift) };
  let scheduled: LocalControlPlane;
  beforeAll(async () => {
    scheduled = await startTestPlane({ clock: shifted, signingKeyRotationEveryMs: 86_400_000 });
  });
  afterAll(async () => {
    await scheduled?.close();
  });

  it('rotates only once the current key is older than the period, and not again before the new one has aged', async () => {
    const kids = async () => (await scheduled.services.vault.getSigningKeys()).current.kid;
    const first = await kids();
    expect(await scheduled.rotateSigningKeyIfDue()).toBe(false);
    expect(await kids()).toBe(first);

    shift = 2 * 86_400_000;
    expect(await scheduled.rotateSigningKeyIfDue()).toBe(true);
    const second = await kids();
    expect(second).not.toBe(first);
    expect(await scheduled.rotateSigningKeyIfDue()).toBe(false);
    expect(await kids()).toBe(second);
  });
});
