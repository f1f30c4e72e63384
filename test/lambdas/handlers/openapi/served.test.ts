import { describe, expect, it } from 'vitest';
import { createDiscoveryHandler, servedOpenApiDocument } from '../../../../lambdas/handlers/discovery.js';
import { publishedDocument } from '../../../../lambdas/handlers/openapi/published.js';
import { bodyOf, buildServices, httpEvent, ISSUER, lambdaContext } from '../fixtures.js';

describe('GET /openapi.json (discovery handler)', () => {
  const services = buildServices({ jwks: { keys: [] } });
  const handler = createDiscoveryHandler(services);
  const get = (resource: string) => handler(httpEvent({ method: 'GET', resource }), lambdaContext);

  it('serves the document as cacheable JSON with the running issuer as its only server', async () => {
    const response = await get('/openapi.json');

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'application/json',
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    });
    const doc = bodyOf(response);
    expect(doc['servers']).toEqual([{ url: ISSUER, description: 'This deployment (its issuer URL).' }]);
    expect(doc).toEqual(JSON.parse(JSON.stringify(servedOpenApiDocument(services))));
  });

  it('serves the published document but for its servers', async () => {
    const { servers, ...served } = bodyOf(await get('/openapi.json'));
    const { servers: published, ...rest } = JSON.parse(JSON.stringify(publishedDocument())) as Record<string, unknown>;
    expect(servers).not.toEqual(published);
    expect(served).toEqual(rest);
  });

  it('serves all three documents with only the ports its function has (no table, no workflow, no mail)', async () => {
    const { clock, policy, config, log, metrics, vault } = services;
    const withoutTable = createDiscoveryHandler({ clock, policy, config, log, metrics, vault });
    for (const resource of ['/.well-known/jwks.json', '/.well-known/oauth-authorization-server', '/openapi.json']) {
      expect((await withoutTable(httpEvent({ method: 'GET', resource }), lambdaContext)).statusCode, resource).toBe(200);
    }
  });

  it('keeps serving the other discovery documents and refuses unknown ones', async () => {
    expect((await get('/.well-known/oauth-authorization-server')).statusCode).toBe(200);
    const unknown = await get('/.well-known/openid-configuration');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers?.['content-type']).toBe('application/problem+json');
  });
});
