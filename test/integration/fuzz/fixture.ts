import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { expect } from 'vitest';
import type { LocalControlPlane } from '../../../lambdas/adapters/local/control-plane.js';
import type { Email } from '../../../lambdas/core/ports.js';
import { reviewLink } from '../outbox.js';
import { postJson, publicRequest, registerPartner, startTestPlane, tableSnapshot } from '../local-mode.js';
import { closeClient } from './http-client.js';

/** A consumer the fuzzers may name: its real id and credentials, used only where they cannot lead to a write. */
export interface KnownClient {
  readonly clientId: string;
  readonly secret: string | undefined;
  readonly registrationToken: string;
}

/**
 * Everything real the fuzzers mix into their requests, set up once per test file: real clients (so bad input meets
 * real records, not only misses), real tokens, refused-but-well-formed assertions and DPoP proofs, and a review link.
 */
export interface Fixture {
  readonly plane: LocalControlPlane;
  /** Public tier, client_secret_basic, reference-data:read; already used its scope (so a token for it writes nothing). */
  readonly basic: KnownClient;
  /** Public tier, private_key_jwt. */
  readonly keyBound: KnownClient & { readonly kid: string };
  /** Internal tier, client_secret_basic, tokens:introspect; already used its scope. */
  readonly introspector: KnownClient;
  /** Real access tokens of `basic` and `introspector`. */
  readonly tokens: { readonly basic: string; readonly introspector: string };
  /** Client assertions for `keyBound` that are well formed and each refused before anything is recorded. */
  readonly refusedAssertions: readonly string[];
  /** DPoP proofs that are well formed and each refused before their jti is recorded. */
  readonly refusedDpopProofs: readonly string[];
  /** A request pending review and one reviewer's link to it (opening it changes nothing). */
  readonly review: { readonly reviewId: string; readonly token: string; readonly clientId: string } | undefined;
  /** Values that must never appear in an error answer. */
  readonly secrets: readonly string[];
  /** The table once the set-up has settled: every fuzz run must leave it exactly so. */
  readonly baseline: unknown[];
  /**
   * How many write commands (put, update, delete, batch or transaction) the plane has sent to its table so far. Local
   * mode has one DynamoDB client, which every store of every function uses: while this does not move, the table cannot
   * have changed, and a run need not scan it.
   */
  readonly writesSent: () => number;
}

/** Counts the write commands sent through the local table's client (its document client shares the middleware stack). */
function countWrites(plane: LocalControlPlane): () => number {
  let writes = 0;
  plane.documentClient.middlewareStack.add(
    (next, context) => (args) => {
      if (/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(context.commandName ?? '')) writes++;
      return next(args);
    },
    { step: 'initialize', name: 'fuzzWriteCounter' },
  );
  return () => writes;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function token(plane: LocalControlPlane, clientId: string, secret: string, scope: string): Promise<string> {
  const res = await fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { ...FORM, authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const json = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return String(json['access_token']);
}

function known(json: Record<string, unknown>): KnownClient {
  return {
    clientId: String(json['client_id']),
    secret: json['client_secret'] as string | undefined,
    registrationToken: String(json['registration_access_token']),
  };
}

async function assertion(
  privateKey: CryptoKey,
  kid: string,
  claims: { iss: string; sub: string; aud: string; expS: number; iatS?: number; jti?: string | undefined },
): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setExpirationTime(claims.expS);
  if (claims.iatS !== undefined) jwt.setIssuedAt(claims.iatS);
  if (claims.jti !== undefined) jwt.setJti(claims.jti);
  return jwt.sign(privateKey);
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (v: Record<string, unknown>) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part(header)}.${part(payload)}.`;
}

/** Starts a plane and the records the fuzzers need; waits until the table no longer changes. */
export async function startFixture(options: { readonly withReview?: boolean } = {}): Promise<Fixture> {
  // Emails arrive through the outbox hook, so waiting for the review workflow needs no polling.
  const mails: Email[] = [];
  let waiting: { until: () => boolean; resolve: () => void }[] = [];
  const mailed = (until: () => boolean): Promise<void> => (until() ? Promise.resolve() : new Promise((resolve) => void waiting.push({ until, resolve })));
  const plane = await startTestPlane({
    onEmail: (_file, email) => {
      mails.push(email);
      const done = waiting.filter((w) => w.until());
      waiting = waiting.filter((w) => !done.includes(w));
      for (const w of done) w.resolve();
    },
  });
  const nowS = Math.floor(Date.now() / 1000);

  const basicReg = await postJson(`${plane.url}/register`, publicRequest());
  expect(basicReg.status).toBe(201);
  const basic = known(basicReg.json);

  const pair = await generateKeyPair('ES256', { extractable: true });
  const kid = 'fuzz-k1';
  const keyReg = await postJson(
    `${plane.url}/register`,
    publicRequest({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' }] } }),
  );
  expect(keyReg.status).toBe(201);
  const keyBound = { ...known(keyReg.json), kid };

  const statement = await plane.softwareStatements.sign({ software_id: 'fuzz-resource-server', tier: 'internal' });
  const introReg = await postJson(
    `${plane.url}/register`,
    publicRequest({
      tier: 'internal',
      scope: 'tokens:introspect',
      data_classes: ['operational'],
      purpose: 'Resource server introspecting tokens for the fuzzers',
      software_statement: statement,
    }),
  );
  expect(introReg.status).toBe(201);
  const introspector = known(introReg.json);

  // Both record their first use and scope now, so a later token for them is a pure read.
  const tokens = {
    basic: await token(plane, basic.clientId, basic.secret!, 'reference-data:read'),
    introspector: await token(plane, introspector.clientId, introspector.secret!, 'tokens:introspect'),
  };

  const other = await generateKeyPair('ES256');
  const id = keyBound.clientId;
  const aud = plane.url;
  const refusedAssertions = [
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud: 'https://elsewhere.example', expS: nowS + 120, jti: 'a1' }),
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud, expS: nowS - 600, iatS: nowS - 900, jti: 'a2' }),
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud, expS: nowS + 3600, jti: 'a3' }),
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud, expS: nowS + 120, iatS: nowS + 600, jti: 'a4' }),
    await assertion(pair.privateKey, kid, { iss: id, sub: 'someone-else', aud, expS: nowS + 120, jti: 'a5' }),
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud, expS: nowS + 120, jti: undefined }),
    await assertion(pair.privateKey, kid, { iss: id, sub: id, aud, expS: nowS + 120, jti: 'j'.repeat(201) }),
    await assertion(other.privateKey, kid, { iss: id, sub: id, aud, expS: nowS + 120, jti: 'a6' }),
    unsigned({ alg: 'none' }, { iss: id, sub: id, aud, exp: nowS + 120, jti: 'a7' }),
    unsigned({ alg: 'HS256', kid }, { iss: id, sub: id, aud, exp: nowS + 120, jti: 'a8' }),
  ];

  const dpopKey = await generateKeyPair('ES256', { extractable: true });
  const dpopJwk = await exportJWK(dpopKey.publicKey);
  const proof = (claims: Record<string, unknown>, typ = 'dpop+jwt') =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ, jwk: dpopJwk }).sign(dpopKey.privateKey);
  const htu = `${plane.url}/oauth2/token`;
  const refusedDpopProofs = [
    await proof({ htm: 'GET', htu, iat: nowS, jti: 'd1' }),
    await proof({ htm: 'POST', htu: `${plane.url}/elsewhere`, iat: nowS, jti: 'd2' }),
    await proof({ htm: 'POST', htu, iat: nowS - 3600, jti: 'd3' }),
    await proof({ htm: 'POST', htu, iat: nowS, jti: 'd4' }, 'JWT'),
    await proof({ htm: 'POST', htu: 'not a uri', iat: nowS, jti: 'd5' }),
    await proof({ htm: 'POST', htu, iat: nowS }),
    unsigned({ alg: 'ES256', typ: 'dpop+jwt', jwk: { ...dpopJwk, d: 'private' } }, { htm: 'POST', htu, iat: nowS, jti: 'd6' }),
  ];

  let review: Fixture['review'];
  if (options.withReview) {
    const pending = await registerPartner(plane, {
      scope: 'accounts:read',
      data_classes: ['confidential'],
      purpose: 'Show business account balances in our bookkeeping app',
    });
    expect(pending.status).toBe(202);
    const requests = () => mails.filter((m) => m.text.includes(pending.clientId) && m.subject.includes('Review needed'));
    await mailed(() => requests().length > 0);
    const link = new URL(reviewLink({ file: '', to: [...requests()[0]!.to], subject: requests()[0]!.subject, text: requests()[0]!.text, html: undefined }));
    review = { reviewId: decodeURIComponent(link.pathname.split('/').at(-1)!), token: link.searchParams.get('t')!, clientId: pending.clientId };
    // The workflow writes the review, then mails each reviewer, then waits: once every link is out, the table is still.
    const reviewers = (await plane.services.reviews.getReview(review.reviewId))?.reviewers.length ?? 0;
    expect(reviewers).toBeGreaterThan(0);
    await mailed(() => requests().length >= reviewers);
  }
  const baseline = await tableSnapshot(plane);
  const writesSent = countWrites(plane);

  const secrets = [
    plane.adminToken,
    basic.secret!,
    introspector.secret!,
    basic.registrationToken,
    keyBound.registrationToken,
    introspector.registrationToken,
    tokens.basic,
    tokens.introspector,
    ...(review ? [review.token] : []),
  ];
  return { plane, basic, keyBound, introspector, tokens, refusedAssertions, refusedDpopProofs, review, secrets, baseline, writesSent };
}

export async function stopFixture(fixture: Fixture | undefined): Promise<void> {
  closeClient();
  await fixture?.plane.close();
}
