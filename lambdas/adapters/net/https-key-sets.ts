import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { RemoteKeySets } from '../../core/ports/remote-key-sets.js';
import { RemoteKeySetError } from '../../core/remote-jwks/errors.js';
import { jwksUriProblem } from '../../core/remote-jwks/url.js';
import { addressProblem } from './address-rules.js';

/** Connect, TLS, request and whole body within this. */
export const FETCH_TIMEOUT_MS = 3000;
/** A key set of a few dozen keys is a few KiB; directory-hosted sets with certificate chains stay well below this. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpsKeySetsOptions {
  /** @default FETCH_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** @default MAX_BODY_BYTES */
  readonly maxBytes?: number;
  /** Name resolution (tests inject one). @default node:dns lookup */
  readonly lookup?: typeof dnsLookup;
  /**
   * For tests and local mode only, which serve a key set from this machine: the named hosts may resolve to a loopback
   * address (and only to one), and TLS trusts `trustedCa` instead of the public roots. No environment variable or stack
   * setting reaches it: the Lambda entries build the fetcher without options.
   */
  readonly testOnly?: { readonly loopbackHosts: readonly string[]; readonly trustedCa: string };
}

const isLoopback = (address: string): boolean => /^127\./.test(address) || address === '::1';

/**
 * The `RemoteKeySets` port over node:https. The address check runs inside the connection's own name resolution, so the
 * address checked is the address connected to (a name that resolves to a public address for a check and to a private one
 * for the connection, DNS rebinding, cannot slip between them). Redirects are refused, not followed: a redirect to
 * another host would bypass the registered URL, and one to the same host can be registered directly.
 */
export function httpsKeySets(options: HttpsKeySetsOptions = {}): RemoteKeySets {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const resolve = options.lookup ?? dnsLookup;
  const testOnly = options.testOnly;

  return {
    fetchJson(url: string): Promise<unknown> {
      const problem = jwksUriProblem(url);
      if (problem !== undefined) return Promise.reject(new RemoteKeySetError('url_refused', `jwks_uri ${problem}`));
      const target = new URL(url);
      const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
      const loopbackAllowed = testOnly?.loopbackHosts.includes(host) ?? false;
      const refusal = (address: string): string | undefined => {
        if (loopbackAllowed) return isLoopback(address) ? undefined : `not a loopback address (the test-only host ${host} must resolve to one)`;
        return addressProblem(address);
      };
      if (isIP(host) !== 0) {
        const why = refusal(host);
        if (why !== undefined)
          return Promise.reject(new RemoteKeySetError('address_refused', `jwks_uri host ${host} is ${why}; key sets are fetched from public addresses only`));
      }
      const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
        resolve(hostname, { ...(lookupOptions as LookupOptions), all: true }, (error, addresses: LookupAddress[]) => {
          if (error) return callback(error, '', 0);
          if (addresses.length === 0) return callback(new RemoteKeySetError('unreachable', `jwks_uri host ${hostname} has no address`), '', 0);
          for (const { address } of addresses) {
            const why = refusal(address);
            // Every address is checked, not only the first: the connection may fall back to any of them.
            if (why !== undefined) {
              return callback(
                new RemoteKeySetError(
                  'address_refused',
                  `jwks_uri host ${hostname} resolves to ${address}, ${why}; key sets are fetched from public addresses only`,
                ),
                '',
                0,
              );
            }
          }
          if ((lookupOptions as LookupOptions).all === true) return callback(null, addresses);
          return callback(null, addresses[0]!.address, addresses[0]!.family);
        });
      };

      return new Promise<unknown>((resolvePromise, reject) => {
        let settled = false;
        const finish = (error: RemoteKeySetError | undefined, value?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) {
            req.destroy();
            reject(error);
          } else resolvePromise(value);
        };
        const req = request(
          {
            method: 'GET',
            host,
            port: target.port === '' ? 443 : Number(target.port),
            path: `${target.pathname}${target.search}`,
            headers: { accept: 'application/jwk-set+json, application/json', 'user-agent': 'Gatehouse (jwks_uri fetch)' },
            lookup: guardedLookup,
            // No pooled connection: each fetch resolves (and checks) the name afresh.
            agent: false,
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ...(testOnly ? { ca: testOnly.trustedCa } : {}),
          },
          (res: IncomingMessage) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400) {
              const location = res.headers.location;
              const where = location === undefined ? '' : ` to ${describeLocation(location, target)}`;
              return finish(
                new RemoteKeySetError(
                  'redirect_refused',
                  `jwks_uri answered with a redirect (HTTP ${status}${where}); redirects are not followed: register the final URL`,
                ),
              );
            }
            if (status !== 200) return finish(new RemoteKeySetError('unreachable', `jwks_uri answered HTTP ${status}, not 200`));
            const declared = Number(res.headers['content-length'] ?? NaN);
            if (declared > maxBytes) return finish(tooLarge(maxBytes));
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > maxBytes) return finish(tooLarge(maxBytes));
              chunks.push(chunk);
            });
            res.on('error', (cause: Error) => finish(networkError(cause)));
            res.on('end', () => {
              try {
                finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
              } catch (cause) {
                finish(new RemoteKeySetError('not_a_key_set', 'the jwks_uri document is not JSON', { cause }));
              }
            });
          },
        );
        const timer = setTimeout(() => finish(new RemoteKeySetError('timeout', `jwks_uri did not answer completely within ${timeoutMs} ms`)), timeoutMs);
        req.on('error', (cause: Error) => finish(cause instanceof RemoteKeySetError ? cause : networkError(cause)));
        req.end();
      });
    },
  };
}

const tooLarge = (maxBytes: number) => new RemoteKeySetError('too_large', `the jwks_uri document is larger than ${maxBytes} bytes`);

function describeLocation(location: string, from: URL): string {
  try {
    const to = new URL(location, from);
    return to.host === from.host ? `${to.href} on the same host` : `another host, ${to.host}`;
  } catch {
    return 'an invalid location';
  }
}

function networkError(cause: Error): RemoteKeySetError {
  const code = (cause as NodeJS.ErrnoException).code ?? '';
  const why =
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'its host name does not resolve'
      : code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_VERIFY/.test(code)
          ? `its TLS certificate is not trusted (${code})`
          : `the connection failed (${code || cause.message})`;
  return new RemoteKeySetError('unreachable', `jwks_uri could not be fetched: ${why}`, { cause });
}
