import type { lookup } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsKeySets } from '../../../../lambdas/adapters/net/https-key-sets.js';
import { RemoteKeySetError } from '../../../../lambdas/core/remote-jwks/errors.js';
import { selfSignedCertificate, startJwksServer, type JwksServer } from '../../../integration/jwks-server.js';

const JWKS = {
  keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tie-7DxcZSxMrUsUE_BCgT0MZp_8', kid: 'k1' }],
};

/** A name resolver that answers every name with `addresses`. */
function resolvingTo(...addresses: string[]): typeof lookup {
  return ((_host: string, _options: unknown, callback: (e: null, a: Array<{ address: string; family: number }>) => void) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    )) as unknown as typeof lookup;
}

async function refusal(promise: Promise<unknown>): Promise<RemoteKeySetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RemoteKeySetError);
  return error as RemoteKeySetError;
}

describe('httpsKeySets', () => {
  let server: JwksServer;
  let testOnly: { loopbackHosts: string[]; trustedCa: string };

  beforeAll(async () => {
    server = await startJwksServer();
    testOnly = { loopbackHosts: ['localhost'], trustedCa: server.ca };
    server.route('/jwks', JWKS);
  });
  afterAll(() => server.close());

  it('fetches a key set over HTTPS from a test-only loopback host with a trusted test CA', async () => {
    await expect(httpsKeySets({ testOnly }).fetchJson(server.url('/jwks'))).resolves.toEqual(JWKS);
  });

  it('refuses an http URL before connecting', async () => {
    const error = await refusal(httpsKeySets({ testOnly }).fetchJson(`http://localhost:${server.port}/jwks`));
    expect(error.code).toBe('url_refused');
    expect(error.message).toBe('jwks_uri must be an https URL (not http)');
  });

  it.each([
    ['https://10.0.0.1/jwks', 'jwks_uri host 10.0.0.1 is a private address (RFC 1918); key sets are fetched from public addresses only'],
    [
      'https://169.254.169.254/latest/meta-data',
      'jwks_uri host 169.254.169.254 is a link-local address (the cloud metadata service lives here); key sets are fetched from public addresses only',
    ],
    ['https://[::1]/jwks', 'jwks_uri host ::1 is a loopback address; key sets are fetched from public addresses only'],
    [
      'https://[::ffff:127.0.0.1]/jwks',
      'jwks_uri host ::ffff:7f00:1 is an IPv4-mapped form of a loopback address; key sets are fetched from public addresses only',
    ],
    ['https://[fd00::1]/jwks', 'jwks_uri host fd00::1 is a unique local (private) address; key sets are fetched from public addresses only'],
    ['https://100.64.0.1/jwks', 'jwks_uri host 100.64.0.1 is a shared carrier-grade NAT address (RFC 6598); key sets are fetched from public addresses only'],
  ])('refuses the address literal %s', async (url, message) => {
    const error = await refusal(httpsKeySets().fetchJson(url));
    expect(error.code).toBe('address_refused');
    expect(error.message).toBe(message);
  });

  it('refuses a host name that resolves to a loopback address, at connection time', async () => {
    const error = await refusal(httpsKeySets({ lookup: resolvingTo('127.0.0.1') }).fetchJson('https://keys.partner.example/jwks'));
    expect(error.code).toBe('address_refused');
    expect(error.message).toBe('jwks_uri host keys.partner.example resolves to 127.0.0.1, a loopback address; key sets are fetched from public addresses only');
  });

  it('refuses a host name when any of its addresses is private, not only the first', async () => {
    const error = await refusal(httpsKeySets({ lookup: resolvingTo('93.184.215.14', '10.1.2.3') }).fetchJson('https://keys.partner.example/jwks'));
    expect(error.message).toContain('resolves to 10.1.2.3, a private address (RFC 1918)');
  });

  it('allows loopback only for the named test-only hosts', async () => {
    const error = await refusal(httpsKeySets({ testOnly, lookup: resolvingTo('127.0.0.1') }).fetchJson(`https://other.example:${server.port}/jwks`));
    expect(error.message).toContain('resolves to 127.0.0.1, a loopback address');
    const elsewhere = await refusal(httpsKeySets({ testOnly, lookup: resolvingTo('10.0.0.1') }).fetchJson(server.url('/jwks')));
    expect(elsewhere.message).toContain('resolves to 10.0.0.1, not a loopback address (the test-only host localhost must resolve to one)');
  });

  it('refuses a redirect to another host without following it', async () => {
    server.route('/moved', (_req, res) => res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data' }).end());
    const error = await refusal(httpsKeySets({ testOnly }).fetchJson(server.url('/moved')));
    expect(error.code).toBe('redirect_refused');
    expect(error.message).toBe(
      'jwks_uri answered with a redirect (HTTP 302 to another host, 169.254.169.254); redirects are not followed: register the final URL',
    );
  });

  it('refuses a redirect on the same host too, naming the URL to register', async () => {
    server.route('/old', (_req, res) => res.writeHead(301, { location: '/jwks' }).end());
    const error = await refusal(httpsKeySets({ testOnly }).fetchJson(server.url('/old')));
    expect(error.message).toContain(`to ${server.url('/jwks')} on the same host`);
  });

  it('refuses a body larger than the limit, declared or streamed', async () => {
    const big = JSON.stringify({ keys: [], pad: 'x'.repeat(70 * 1024) });
    server.route('/big', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(big));
    server.route('/big-chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(big.slice(0, 40_000));
      res.end(big.slice(40_000));
    });
    for (const path of ['/big', '/big-chunked']) {
      const error = await refusal(httpsKeySets({ testOnly }).fetchJson(server.url(path)));
      expect(error.code).toBe('too_large');
      expect(error.message).toBe('the jwks_uri document is larger than 65536 bytes');
    }
  });

  it('gives up on a server that does not answer in time', async () => {
    server.route('/slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":'); // and never ends
    });
    const error = await refusal(httpsKeySets({ testOnly, timeoutMs: 300 }).fetchJson(server.url('/slow')));
    expect(error.code).toBe('timeout');
    expect(error.message).toBe('jwks_uri did not answer completely within 300 ms');
  });

  it('refuses a status other than 200, and a body that is not JSON', async () => {
    server.route('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
    expect((await refusal(httpsKeySets({ testOnly }).fetchJson(server.url('/missing')))).message).toBe('jwks_uri answered HTTP 404, not 200');
    const notJson = await refusal(httpsKeySets({ testOnly }).fetchJson(server.url('/html')));
    expect(notJson.code).toBe('not_a_key_set');
    expect(notJson.message).toBe('the jwks_uri document is not JSON');
  });

  it('refuses a server whose certificate the trust store does not hold', async () => {
    const stranger = selfSignedCertificate().cert;
    const error = await refusal(httpsKeySets({ testOnly: { ...testOnly, trustedCa: stranger } }).fetchJson(server.url('/jwks')));
    expect(error.code).toBe('unreachable');
    expect(error.message).toMatch(/^jwks_uri could not be fetched: its TLS certificate is not trusted \(/);
  });
});
