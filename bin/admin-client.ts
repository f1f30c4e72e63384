import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/** Where the local control plane listens and the token that stands in for IAM there (npm start writes it). */
export function localAdmin(): { url: string; token: string } {
  const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
  const file = resolve(dataDir, 'admin-token');
  const token = process.env['GATEHOUSE_ADMIN_TOKEN'] ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  if (!token) throw new Error(`No admin token: start the control plane (npm start) first, or set GATEHOUSE_ADMIN_TOKEN. Looked in ${file}.`);
  return { url: adminUrl(), token };
}

const adminUrl = (): string => (process.env['GATEHOUSE_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? 3000}`).replace(/\/$/, '');

/** SHA-256 (and HMAC-SHA-256 with a key) from node:crypto, in the shape SignatureV4 expects. */
class NodeSha256 {
  readonly #secret: Uint8Array | string | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }

  reset(): void {
    this.#hash = this.#fresh();
  }
}

/**
 * How the CLI authenticates: the local admin token for a plane on this machine, IAM SigV4 (the standard AWS credential
 * chain: environment, profile, SSO, instance role) for a deployed stack's API (`GATEHOUSE_URL=https://…`).
 */
export function adminAuth(url: string): 'token' | 'sigv4' {
  const host = new URL(url).hostname;
  if (process.env['GATEHOUSE_ADMIN_TOKEN'] || host === '127.0.0.1' || host === 'localhost' || host === '::1') return 'token';
  return 'sigv4';
}

/** The region of an API Gateway endpoint (`<id>.execute-api.<region>.amazonaws.com`), else AWS_REGION. */
export function regionOf(url: string): string {
  const match = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(url).hostname);
  const region = match?.[1] ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
  if (!region) throw new Error(`Cannot tell the AWS region of ${url}: set AWS_REGION.`);
  return region;
}

/** Signs an admin request with SigV4 for API Gateway's IAM authorization (service `execute-api`). */
export async function signedHeaders(
  method: string,
  url: string,
  body: string | undefined,
  credentials: AwsCredentialIdentityProvider = defaultProvider(),
  now?: Date,
): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'execute-api', region: regionOf(url), credentials, sha256: NodeSha256 });
  const signed = await signer.sign(
    {
      method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: target.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
    },
    now ? { signingDate: now } : {},
  );
  return signed.headers;
}

/** The admin route that resends the review links of a pending registration, or of one of its change requests. */
export function reviewLinksPath(clientId: string, requestId?: string): string {
  const consumer = `/admin/consumers/${encodeURIComponent(clientId)}`;
  return requestId === undefined ? `${consumer}/review-links` : `${consumer}/requests/${encodeURIComponent(requestId)}/review-links`;
}

/** Calls an admin route; a problem response becomes an Error with its detail. */
export async function adminCall(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const url = adminUrl();
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers =
    adminAuth(url) === 'sigv4'
      ? await signedHeaders(method, `${url}${path}`, text)
      : { authorization: `Bearer ${localAdmin().token}`, ...(text === undefined ? {} : { 'content-type': 'application/json' }) };
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method, headers, ...(text === undefined ? {} : { body: text }) });
  } catch (cause) {
    throw new Error(`Cannot reach Gatehouse at ${url} (is npm start running?)`, { cause });
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.status} ${String(json['title'] ?? json['error'] ?? '')}: ${String(json['detail'] ?? json['error_description'] ?? '')}`);
  return json;
}
