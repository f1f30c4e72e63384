import { randomUUID } from 'node:crypto';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { FileVault } from '../../../../lambdas/adapters/local/file-vault.js';
import type { Consumer, PublicJwk } from '../../../../lambdas/core/consumer/consumer.js';
import type { ConsumerStore, MarkerStore } from '../../../../lambdas/core/ports.js';
import type { Services, TableStores } from '../../../../lambdas/core/services.js';
import { CLIENT_ID, consumerFixture, defaultPolicy, NOW, recordingLog, TestClock, type RecordingLog } from '../../fixtures.js';
import { fakeWorkflow, ISSUER, nullMailer, testConfig } from '../../handlers/fixtures.js';
import { FileClientSecrets } from '../../../../lambdas/adapters/local/file-client-secrets.js';

import { MemoryMetrics } from '../../../../lambdas/adapters/local/memory-metrics.js';
import type { RevocationList } from '../../../../lambdas/core/revocation/revocation-list.js';
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const TOKEN_ENDPOINT = `${ISSUER}/oauth2/token`;
export const INTROSPECTION_ENDPOINT = `${ISSUER}/oauth2/introspect`;
export const REVOCATION_ENDPOINT = `${ISSUER}/oauth2/revoke`;
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The algorithms a client may sign assertions and DPoP proofs with (`Ed25519` and `EdDSA` name one algorithm, RFC 9864). */
export const CLIENT_ALGS = ['ES256', 'PS256', 'Ed25519', 'EdDSA'] as const;
export type ClientAlg = (typeof CLIENT_ALGS)[number];

/** A client's key pair: `registered` is what it puts in its JWKS, `jwk` the bare public key a DPoP proof carries. */
export interface ClientKey {
  readonly alg: ClientAlg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
  readonly registered: PublicJwk;
}

export async function clientKey(alg: ClientAlg = 'ES256', kid = `${alg.toLowerCase()}-key-1`): Promise<ClientKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, kid, privateKey, publicKey, jwk, registered: { ...jwk, kty: jwk.kty!, kid, alg, use: 'sig' } };
}

/** The bytes an attacker would try as an HMAC secret in an algorithm-confusion attack on `key`. */
export async function publicKeyBytes(key: ClientKey, form: 'jwk' | 'spki'): Promise<Uint8Array> {
  const text = form === 'jwk' ? JSON.stringify(key.registered) : await exportSPKI(key.publicKey);
  return new TextEncoder().encode(text);
}

type Claims = Record<string, unknown>;

/** `base` with `changes` applied; a change to `undefined` removes the claim. */
export function withChanges(base: Claims, changes: Claims): Claims {
  const out: Claims = { ...base, ...changes };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete out[name];
  return out;
}

/** A valid RFC 7523 assertion's claims for CLIENT_ID at NOW, with a fresh jti. */
export function assertionClaims(changes: Claims = {}): JWTPayload {
  return withChanges({ iss: CLIENT_ID, sub: CLIENT_ID, aud: ISSUER, iat: NOW_S, exp: NOW_S + 60, jti: randomUUID() }, changes) as JWTPayload;
}

export function signAssertion(key: ClientKey, changes: Claims = {}, header: Claims = {}): Promise<string> {
  return new SignJWT(assertionClaims(changes)).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** An unsecured JWT (`alg: none`, empty signature). */
export function unsignedJwt(claims: Claims, header: Claims = {}): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ alg: 'none', ...header })}.${part(claims)}.`;
}

/** An HS256 JWT keyed with `secret` (e.g. the victim's public key bytes). */
export function hmacJwt(secret: Uint8Array, claims: Claims, header: Claims = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', ...header }).sign(secret);
}

/** A valid RFC 9449 proof's claims for POST to the token endpoint at NOW, with a fresh jti. */
export function proofClaims(changes: Claims = {}): JWTPayload {
  return withChanges({ jti: randomUUID(), htm: 'POST', htu: TOKEN_ENDPOINT, iat: NOW_S }, changes) as JWTPayload;
}

export function signProof(key: ClientKey, changes: Claims = {}, header: Claims = {}): Promise<string> {
  return new SignJWT(proofClaims(changes)).setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...header }).sign(key.privateKey);
}

/** An active private_key_jwt consumer holding `keys`. */
export function keyBoundConsumer(keys: readonly ClientKey[], overrides: Partial<Consumer> = {}): Consumer {
  return consumerFixture({
    authMethod: 'private_key_jwt',
    jwks: { keys: keys.map((k) => k.registered) },
    secretHash: undefined,
    secretExpiresAt: undefined,
    ...overrides,
  });
}

/** The parts of the consumer and marker ports the OAuth core uses. */
type OAuthRegistry = Pick<ConsumerStore, 'getConsumer' | 'recordUse'> &
  Pick<MarkerStore, 'claimOnce' | 'hasMarker'> &
  Pick<RevocationList, 'recordTokenRevocation'>;

/**
 * An in-memory store with DynamoRegistry's semantics for consumers and one-time markers (a marker may be claimed
 * again once its TTL is in the past). The OAuth core needs nothing else from the registry.
 */
export class MemoryRegistry implements OAuthRegistry {
  readonly consumers = new Map<string, Consumer>();
  /** marker → TTL (epoch seconds). */
  readonly markers = new Map<string, number>();
  /** The revocation list's revoked tokens: jti → exp. */
  readonly revokedTokens = new Map<string, number>();
  readonly uses: { clientId: string; at: Date }[] = [];
  reads = 0;

  /** This store as the consumer port (only the OAuth methods exist). */
  get consumerPort(): ConsumerStore & MemoryRegistry {
    return this as unknown as ConsumerStore & MemoryRegistry;
  }

  /** This store as the revocation list (only recording a revoked token exists). */
  get revocationPort(): RevocationList & MemoryRegistry {
    return this as unknown as RevocationList & MemoryRegistry;
  }

  /** This store as the marker port (only the OAuth methods exist). */
  get markerPort(): MarkerStore & MemoryRegistry {
    return this as unknown as MarkerStore & MemoryRegistry;
  }

  put(consumer: Consumer): this {
    this.consumers.set(consumer.clientId, structuredClone(consumer));
    return this;
  }

  patch(clientId: string, changes: Partial<Consumer>): void {
    this.consumers.set(clientId, { ...this.consumers.get(clientId)!, ...changes });
  }

  async getConsumer(clientId: string): Promise<Consumer | undefined> {
    this.reads += 1;
    const consumer = this.consumers.get(clientId);
    return consumer ? structuredClone(consumer) : undefined;
  }

  async recordUse(clientId: string, at: Date): Promise<void> {
    this.uses.push({ clientId, at });
  }

  async claimOnce(marker: string, expiresAtEpoch: number, now: Date): Promise<boolean> {
    const ttl = this.markers.get(marker);
    if (ttl !== undefined && !(ttl < Math.floor(now.getTime() / 1000))) return false;
    this.markers.set(marker, expiresAtEpoch);
    return true;
  }

  async recordTokenRevocation(token: { readonly jti: string; readonly exp: number }): Promise<void> {
    this.revokedTokens.set(token.jti, token.exp);
  }

  async hasMarker(marker: string, now: Date): Promise<boolean> {
    const ttl = this.markers.get(marker);
    return ttl !== undefined && ttl >= Math.floor(now.getTime() / 1000);
  }
}

export type CoreServices = Omit<Services, keyof TableStores> & {
  /** The in-memory store behind `consumers` and `markers`, to seed and inspect. */
  readonly registry: MemoryRegistry;
  readonly consumers: ConsumerStore & MemoryRegistry;
  readonly markers: MarkerStore & MemoryRegistry;
  readonly revocations: RevocationList & MemoryRegistry;
  readonly clock: TestClock;
  readonly log: RecordingLog;
  readonly vault: FileVault;
  readonly metrics: MemoryMetrics;
};

/** Services for OAuth core tests: an in-memory registry, an in-memory vault and a frozen clock. */
export function coreServices(options: { registry?: MemoryRegistry; clock?: TestClock } = {}): CoreServices {
  const registry = options.registry ?? new MemoryRegistry();
  return {
    registry,
    consumers: registry.consumerPort,
    markers: registry.markerPort,
    revocations: registry.revocationPort,
    vault: new FileVault(),
    clientSecrets: new FileClientSecrets(),
    workflow: fakeWorkflow(),
    mailer: nullMailer,
    linkMailer: nullMailer,
    clock: options.clock ?? new TestClock(),
    policy: defaultPolicy,
    config: testConfig({ keys: [] }),
    log: recordingLog(),
    metrics: new MemoryMetrics(),
  };
}
