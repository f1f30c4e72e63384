import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for `localhost` and 127.0.0.1, made with the machine's openssl. */
export function selfSignedCertificate(): { readonly key: string; readonly cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-jwks-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type JwksRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** A partner's key-set host on loopback over HTTPS: tests set what each path answers and count the requests. */
export interface JwksServer {
  /** The URL of `path` under the `localhost` name (the certificate's). */
  url(path: string): string;
  readonly port: number;
  /** The certificate to trust (the fetcher's test-only CA). */
  readonly ca: string;
  /** Serves `path`; a JSON value is sent as the key set. */
  route(path: string, answer: JwksRoute | object): void;
  /** Requests received for `path` so far. */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const { key, cert } = selfSignedCertificate();
  const routes = new Map<string, JwksRoute>();
  const counts = new Map<string, number>();
  const server = createServer({ key, cert }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = routes.get(path);
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `https://localhost:${port}${path}`,
    port,
    ca: cert,
    route(path, answer) {
      routes.set(
        path,
        typeof answer === 'function'
          ? (answer as JwksRoute)
          : (_req, res) => res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify(answer)),
      );
    },
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
