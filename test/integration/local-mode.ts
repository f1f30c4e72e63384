import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
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
