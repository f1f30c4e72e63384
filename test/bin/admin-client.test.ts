import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { adminAuth, regionOf, reviewLinksPath, signedHeaders } from '../../bin/admin-client.js';
import { ROUTES } from '../../lambdas/contracts/routes.js';
import { routeMatcher } from '../../lambdas/adapters/local/route-table.js';

const API = 'https://abc123defg.execute-api.eu-west-2.amazonaws.com/v1';
const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' });
const NOW = new Date('2026-11-25T12:00:00Z');

/** An independent SigV4 computation (AWS's documented algorithm) to check the CLI's signature against. */
function expectedSignature(method: string, url: string, headers: Record<string, string>, body: string): string {
  const target = new URL(url);
  const signed = headers['authorization']!.match(/SignedHeaders=([^,]+)/)![1]!.split(';');
  const canonicalHeaders = signed.map((h) => `${h}:${String(headers[h]).trim()}\n`).join('');
  const query = [...target.searchParams]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const canonical = [method, target.pathname, query, canonicalHeaders, signed.join(';'), createHash('sha256').update(body).digest('hex')].join('\n');
  const date = headers['x-amz-date']!;
  const scope = `${date.slice(0, 8)}/eu-west-2/execute-api/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const key = ['eu-west-2', 'execute-api', 'aws4_request'].reduce<Buffer>(
    (k, part) => createHmac('sha256', k).update(part).digest(),
    createHmac('sha256', 'AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY').update(date.slice(0, 8)).digest(),
  );
  return createHmac('sha256', key).update(toSign).digest('hex');
}

describe('admin client', () => {
  afterEach(() => {
    delete process.env['GATEHOUSE_ADMIN_TOKEN'];
  });

  it('uses the admin token for a plane on this machine and SigV4 for a deployed API', () => {
    expect(adminAuth('http://127.0.0.1:3000')).toBe('token');
    expect(adminAuth('http://localhost:4000')).toBe('token');
    expect(adminAuth(API)).toBe('sigv4');
    process.env['GATEHOUSE_ADMIN_TOKEN'] = 'set';
    expect(adminAuth(API)).toBe('token');
  });

  it('takes the region from an execute-api host', () => {
    expect(regionOf(API)).toBe('eu-west-2');
  });

  it('signs a POST for execute-api with the documented SigV4 algorithm, including the body and the session token', async () => {
    const body = JSON.stringify({ reason: 'Suspected leak' });
    const url = `${API}/admin/consumers/gh_abc/suspend`;
    const headers = await signedHeaders('POST', url, body, credentials, NOW);
    expect(headers['x-amz-date']).toBe('20261125T120000Z');
    expect(headers['x-amz-security-token']).toBe('session-token');
    expect(headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261125\/eu-west-2\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['authorization']!.split('Signature=')[1]).toBe(expectedSignature('POST', url, headers, body));
  });

  it('signs query parameters of a GET', async () => {
    const url = `${API}/admin/consumers?status=active&limit=500`;
    const headers = await signedHeaders('GET', url, undefined, credentials, NOW);
    expect(headers['authorization']!.split('Signature=')[1]).toBe(expectedSignature('GET', url, headers, ''));
    // Changing the query changes the signature: it is covered.
    const other = await signedHeaders('GET', `${API}/admin/consumers?status=revoked&limit=500`, undefined, credentials, NOW);
    expect(other['authorization']).not.toBe(headers['authorization']);
  });
});

describe('reviewLinksPath', () => {
  it('names the resend route of a registration or of one change request, as the route table spells them', () => {
    const resend = ROUTES.filter((r) => r.handler === 'review-links');
    const consumerRoute = resend.find((r) => !r.path.includes('{request_id}'))!;
    const requestRoute = resend.find((r) => r.path.includes('{request_id}'))!;

    const matches = (path: string) => routeMatcher(ROUTES)(path).map((m) => [m.route, m.params]);
    expect(matches(reviewLinksPath('gh_abc'))).toEqual([[consumerRoute, { client_id: 'gh_abc' }]]);
    expect(matches(reviewLinksPath('gh_abc', 'req/1'))).toEqual([[requestRoute, { client_id: 'gh_abc', request_id: 'req/1' }]]);
    expect(reviewLinksPath('gh_abc', 'req/1')).toBe('/admin/consumers/gh_abc/requests/req%2F1/review-links');
  });
});
