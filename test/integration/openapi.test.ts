import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/contracts/routes.js';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { OpenApiDocument, OpenApiOperation } from '../../lambdas/handlers/openapi/document.js';
import { publishedDocument } from '../../lambdas/handlers/openapi/published.js';
import { startTestPlane } from './local-mode.js';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const BASE = 'https://gatehouse.test/openapi.json';

let plane: LocalControlPlane;
let served: OpenApiDocument;

beforeAll(async () => {
  plane = await startTestPlane();
  const res = await fetch(`${plane.url}/openapi.json`);
  served = (await res.json()) as OpenApiDocument;
});
afterAll(async () => {
  await plane?.close();
});

/** Validates a response body against what the served document says for that operation, status and media type. */
function conformance(doc: OpenApiDocument): (op: OpenApiOperation, status: number, contentType: string | null, body: string) => string | undefined {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'components' });
  ajv.addSchema({ $id: BASE, components: { schemas: doc.components.schemas } });
  return (op, status, contentType, body) => {
    const response = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`];
    if (!response) return `status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`;
    const media = (contentType ?? '').split(';')[0]!.trim();
    const documented = response.content?.[media];
    if (!documented) return `status ${status} is documented as ${Object.keys(response.content ?? {}).join(' or ')}, not ${media}`;
    if (!media.endsWith('json')) return undefined;
    const schema = documented.schema as { $ref?: string };
    const validate = schema.$ref?.startsWith('#/') ? ajv.getSchema(`${BASE}${schema.$ref}`)! : ajv.compile(schema);
    return validate(JSON.parse(body)) ? undefined : `body does not match the documented schema: ${ajv.errorsText(validate.errors)}`;
  };
}

describe('local mode: GET /openapi.json', () => {
  it('serves the OpenAPI 3.1 document over HTTP with this plane as its server', async () => {
    const res = await fetch(`${plane.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: plane.url, description: 'This deployment (its issuer URL).' }]);
    expect(doc.servers[0]!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { servers: _published, ...published } = JSON.parse(JSON.stringify(publishedDocument())) as OpenApiDocument;
    const { servers: _own, ...rest } = doc;
    expect(rest).toEqual(published);
  });

  it('answers every documented operation, unauthenticated, with a status and format the document gives it', async () => {
    const check = conformance(served);
    const failures: string[] = [];
    let probed = 0;
    for (const [path, item] of Object.entries(served.paths)) {
      for (const [method, op] of Object.entries(item) as [string, OpenApiOperation][]) {
        const concrete = path.replace(/\{[^}]+\}/g, 'unknown-id');
        const res = await fetch(`${plane.url}${concrete}`, { method: method.toUpperCase(), ...(method === 'post' ? { body: '' } : {}) });
        const problem = check(op, res.status, res.headers.get('content-type'), await res.text());
        probed++;
        if (problem) failures.push(`${method.toUpperCase()} ${path}: ${problem}`);
      }
    }
    expect(probed).toBe(ROUTES.length);
    expect(failures).toEqual([]);
  });

  it('answers the admin API with the admin token as documented', async () => {
    const check = conformance(served);
    const auth = { authorization: `Bearer ${plane.adminToken}` };
    const list = await fetch(`${plane.url}/admin/consumers?limit=5`, { headers: auth });
    expect(list.status).toBe(200);
    expect(check(served.paths['/admin/consumers']!.get!, list.status, list.headers.get('content-type'), await list.text())).toBeUndefined();

    const exceptions = await fetch(`${plane.url}/admin/exceptions`, { headers: auth });
    expect(exceptions.status).toBe(200);
    expect(check(served.paths['/admin/exceptions']!.get!, exceptions.status, exceptions.headers.get('content-type'), await exceptions.text())).toBeUndefined();

    const suspend = await fetch(`${plane.url}/admin/consumers/unknown-id/suspend`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(suspend.status).toBe(400);
    expect(
      check(served.paths['/admin/consumers/{client_id}/suspend']!.post!, suspend.status, suspend.headers.get('content-type'), await suspend.text()),
    ).toBeUndefined();
  });
});
