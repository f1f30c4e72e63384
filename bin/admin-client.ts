import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the local control plane listens and the token that stands in for IAM there (npm start writes it). */
export function localAdmin(): { url: string; token: string } {
  const dataDir = resolve(process.env['GATEHOUSE_DATA_DIR'] ?? '.gatehouse');
  const file = resolve(dataDir, 'admin-token');
  const token = process.env['GATEHOUSE_ADMIN_TOKEN'] ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  if (!token) throw new Error(`No admin token: start the control plane (npm start) first, or set GATEHOUSE_ADMIN_TOKEN. Looked in ${file}.`);
  return { url: (process.env['GATEHOUSE_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? 3000}`).replace(/\/$/, ''), token };
}

/** Calls an admin route; a problem response becomes an Error with its detail. */
export async function adminCall(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const { url, token } = localAdmin();
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw new Error(`Cannot reach Gatehouse at ${url} (is npm start running?)`, { cause });
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.status} ${String(json['title'] ?? json['error'] ?? '')}: ${String(json['detail'] ?? json['error_description'] ?? '')}`);
  return json;
}
