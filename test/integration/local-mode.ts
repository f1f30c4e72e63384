import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { consoleLog } from '../../lambdas/adapters/local/console-log.js';
import { startLocalControlPlane, type LocalControlPlane, type LocalOptions } from '../../lambdas/adapters/local/control-plane.js';

/** Starts local mode on an ephemeral loopback port, in memory and silent. */
export function startTestPlane(options: LocalOptions = {}): Promise<LocalControlPlane> {
  return startLocalControlPlane({ port: 0, dataDir: undefined, log: consoleLog({ silent: true }), ...options });
}

/** A low-risk public registration that the default policy approves automatically. */
export function publicRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'FX rates widget',
    tier: 'public',
    scope: 'reference-data:read',
    purpose: 'Show daily FX rates in our budgeting app',
    data_classes: ['public'],
    contacts: ['dev@fintech.example'],
    expires_at: new Date(Date.now() + 90 * 86_400_000).toISOString(),
    ...overrides,
  };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** Every item in the local table, to prove a refused request wrote nothing. */
export async function tableSnapshot(plane: LocalControlPlane): Promise<unknown[]> {
  const out = await plane.documentClient.send(new ScanCommand({ TableName: plane.tableName, ConsistentRead: true }));
  return out.Items ?? [];
}

/** Registers a partner consumer with private_key_jwt and a signed software statement; returns its key too. */
export async function registerPartner(
  plane: LocalControlPlane,
  request: { scope: string; data_classes: string[]; contacts?: string[]; purpose?: string },
): Promise<{ status: number; json: Record<string, unknown>; clientId: string; privateKey: CryptoKey; kid: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  const kid = 'k1';
  const statement = await plane.softwareStatements.sign({ software_id: `app-${Math.random().toString(36).slice(2)}`, tier: 'partner' });
  const reg = await postJson(
    `${plane.url}/register`,
    publicRequest({
      client_name: 'SME payments',
      tier: 'partner',
      purpose: 'Initiate supplier payments on behalf of SME customers',
      ...request,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' }] },
      software_statement: statement,
    }),
  );
  return { ...reg, clientId: String(reg.json['client_id']), privateKey: pair.privateKey, kid };
}

/**
 * A client_credentials request authenticated with a private_key_jwt assertion (RFC 7523) signed by `key`, its `iat` and
 * `exp` taken from `now` (a plane's test clock may run ahead of real time).
 */
export async function assertionTokenRequest(
  plane: Pick<LocalControlPlane, 'url'>,
  clientId: string,
  key: { readonly privateKey: CryptoKey; readonly kid: string },
  options: { readonly now?: Date; readonly scope?: string } = {},
): Promise<Response> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(plane.url)
    .setJti(crypto.randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(key.privateKey);
  return fetch(`${plane.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      ...(options.scope ? { scope: options.scope } : {}),
    }),
  });
}
