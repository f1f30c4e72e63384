import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROUTES, type Route } from '../../../../lambdas/contracts/routes.js';
import { openApiDocument, pathParameterNames, type OpenApiDocument, type OpenApiOperation } from '../../../../lambdas/handlers/openapi/document.js';
import { OPERATIONS } from '../../../../lambdas/handlers/openapi/operations.js';
import { PUBLISHED_FILE, PUBLISHED_SERVERS, publishedDocument, serializeDocument } from '../../../../lambdas/handlers/openapi/published.js';
import pkg from '../../../../package.json' with { type: 'json' };

const publishedPath = new URL(`../../../../${PUBLISHED_FILE}`, import.meta.url);
const publishedText = readFileSync(publishedPath, 'utf8');
const STALE = `${PUBLISHED_FILE} is out of date with the route table or the request schemas: run \`npm run openapi\` and commit the result`;

/** Every operation in a document as `METHOD /path`, with the operation. */
function operationsOf(doc: OpenApiDocument): Map<string, OpenApiOperation> {
  const out = new Map<string, OpenApiOperation>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) out.set(`${method.toUpperCase()} ${path}`, op as OpenApiOperation);
  }
  return out;
}

const key = (r: Route) => `${r.method} ${r.path}`;

describe('the OpenAPI document and the route table', () => {
  const documents: [string, OpenApiDocument][] = [
    ['the generated document', publishedDocument()],
    [`the published ${PUBLISHED_FILE}`, JSON.parse(publishedText) as OpenApiDocument],
  ];

  describe.each(documents)('%s', (name, doc) => {
    const ops = operationsOf(doc);
    const hint = name.includes(PUBLISHED_FILE) ? ` (${STALE})` : '';

    it('documents every route, with the route’s summary and handler', () => {
      const missing = ROUTES.filter((r) => !ops.has(key(r))).map(key);
      expect(missing, `routes missing from ${name}${hint}`).toEqual([]);
      for (const route of ROUTES) {
        const op = ops.get(key(route))!;
        expect(op.summary, key(route)).toBe(route.description);
        expect(op['x-gatehouse-handler'], key(route)).toBe(route.handler);
      }
    });

    it('documents no operation that is not a route', () => {
      const routes = new Set(ROUTES.map(key));
      expect(
        [...ops.keys()].filter((k) => !routes.has(k)),
        `operations in ${name} that ROUTES does not have${hint}`,
      ).toEqual([]);
      expect(ops.size, `operations in ${name} against routes in ROUTES${hint}`).toBe(ROUTES.length);
    });

    it('declares exactly the {param}s of each route path, as required path parameters', () => {
      for (const route of ROUTES.filter((r) => ops.has(key(r)))) {
        const declared = (ops.get(key(route))?.parameters ?? []).filter((p) => p.in === 'path');
        expect(
          declared.map((p) => p.name),
          `path parameters of ${key(route)}${hint}`,
        ).toEqual(pathParameterNames(route.path));
        for (const p of declared) expect(p.required, `${key(route)} {${p.name}}`).toBe(true);
      }
    });

    it('secures iam routes with SigV4 or the local admin token, and never a public route', () => {
      for (const route of ROUTES.filter((r) => ops.has(key(r)))) {
        const security = ops.get(key(route))!.security;
        const schemes = security.flatMap((s) => Object.keys(s)).sort();
        if (route.auth === 'iam') expect(schemes, key(route)).toEqual(['iamSigV4', 'localAdminToken']);
        else expect(schemes, key(route)).not.toContain('iamSigV4');
      }
    });
  });

  it(`publishes ${PUBLISHED_FILE} exactly as a fresh generation writes it`, () => {
    expect(JSON.parse(publishedText), STALE).toEqual(JSON.parse(JSON.stringify(publishedDocument())));
    expect(publishedText, STALE).toBe(serializeDocument(publishedDocument()));
  });
});

describe('openApiDocument', () => {
  const servers = [{ url: 'https://gatehouse.test' }];
  const extra: Route = {
    method: 'GET',
    path: '/admin/widgets/{widget_id}',
    handler: 'admin',
    operationId: 'getWidget',
    description: 'Operators: a widget',
    auth: 'iam',
  };

  it('refuses a route that has no operation metadata, naming it and where to add it', () => {
    expect(() => openApiDocument({ servers, routes: [...ROUTES, extra] })).toThrow(
      /no operation metadata for getWidget; add an entry per route to OPERATIONS in lambdas\/handlers\/openapi\/operations\.ts/,
    );
  });

  it('refuses operation metadata for a route that ROUTES does not have', () => {
    const [first, ...rest] = ROUTES;
    expect(() => openApiDocument({ servers, routes: rest })).toThrow(new RegExp(`operation metadata for ${first!.operationId}, which ROUTES does not have`));
  });

  it('refuses a path parameter it cannot describe', () => {
    const operations = { ...OPERATIONS, getWidget: { tag: 'Admin' as const, responses: { '200': { description: 'ok' } } } };
    expect(() => openApiDocument({ servers, routes: [...ROUTES, extra], operations })).toThrow(
      /path parameter \{widget_id\} of GET \/admin\/widgets\/\{widget_id\} has no description/,
    );
  });

  it('refuses a route listed twice and repeated operationIds', () => {
    expect(() => openApiDocument({ servers, routes: [...ROUTES, ROUTES[0]!] })).toThrow(/routes listed twice in ROUTES: POST \/register/);
    const renamed = ROUTES.map((r) => (r.operationId === 'getOpenApiDocument' ? { ...r, operationId: 'registerClient' } : r));
    expect(() => openApiDocument({ servers, routes: renamed })).toThrow(/operationIds must be unique; repeated: registerClient/);
  });

  it('puts the given servers first and takes the version from package.json', () => {
    const doc = openApiDocument({ servers });
    expect(doc.servers).toEqual(servers);
    expect(doc.info.version).toBe(pkg.version);
    expect(publishedDocument().servers).toEqual(PUBLISHED_SERVERS);
  });
});

describe('the OpenAPI document is structurally valid OpenAPI 3.1', () => {
  const doc = publishedDocument();
  const ops = operationsOf(doc);

  it('declares OpenAPI 3.1.0 with a title, a version and at least one server', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Gatehouse');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.servers.length).toBeGreaterThan(0);
    for (const server of doc.servers) {
      // Every {variable} in a server URL needs a declared default (OpenAPI 3.1 §4.8.6).
      for (const variable of pathParameterNames(server.url)) expect(server.variables?.[variable]?.default, `${server.url} {${variable}}`).toBeTypeOf('string');
    }
  });

  it('resolves every $ref inside the document', () => {
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node !== null && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref') refs.push(String(v));
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(20);
    const unresolved = refs.filter((ref) => {
      if (!ref.startsWith('#/')) return true;
      let node: unknown = doc;
      for (const part of ref.slice(2).split('/')) {
        const name = part.replaceAll('~1', '/').replaceAll('~0', '~');
        node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[name] : undefined;
      }
      return node === undefined;
    });
    expect(unresolved).toEqual([]);
  });

  it('gives every operation a unique operationId, a tag that is declared, a 2xx response and described responses with schemas', () => {
    const ids = [...ops.values()].map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((t) => t.name));
    for (const [where, op] of ops) {
      expect(op.operationId, where).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      for (const tag of op.tags) expect(tags.has(tag), `${where} tag ${tag}`).toBe(true);
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => s.startsWith('2')),
        `${where} has a success response`,
      ).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(status, where).toMatch(/^(?:[1-5](?:\d\d|XX)|default)$/);
        expect(response.description.length, `${where} ${status}`).toBeGreaterThan(0);
        for (const [media, body] of Object.entries(response.content ?? {})) {
          expect(media, `${where} ${status}`).toMatch(/^[a-z]+\/[a-z0-9.+-]+$/);
          expect(body.schema, `${where} ${status} ${media}`).toBeTypeOf('object');
        }
      }
    }
  });

  it('uses only declared security schemes, and declares no parameter twice', () => {
    const schemes = new Set(Object.keys(doc.components.securitySchemes));
    for (const [where, op] of ops) {
      for (const requirement of op.security) for (const name of Object.keys(requirement)) expect(schemes.has(name), `${where} ${name}`).toBe(true);
      const params = (op.parameters ?? []).map((p) => `${p.in}:${p.name}`);
      expect(new Set(params).size, where).toBe(params.length);
      for (const p of op.parameters ?? []) expect(['path', 'query', 'header', 'cookie'], where).toContain(p.in);
    }
  });

  it('describes errors in the format each route sends: OAuth JSON on OAuth routes, RFC 7591 on registration, problem JSON on admin routes, HTML on reviews', () => {
    const mediaOf = (where: string, status: string) => Object.keys(ops.get(where)!.responses[status]?.content ?? {});
    expect(mediaOf('POST /oauth2/token', '401')).toEqual(['application/json']);
    expect(ops.get('POST /oauth2/token')!.responses['401']!.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/OAuthError' });
    // RFC 7591 section 3.2.2 for every registration 4xx, the edge's own refusals (400, 413, 415) included.
    for (const status of ['400', '413', '415', '422']) {
      expect(mediaOf('POST /register', status), status).toEqual(['application/json']);
      expect(ops.get('POST /register')!.responses[status]!.content!['application/json']!.schema, status).toEqual({
        $ref: '#/components/schemas/RegistrationError',
      });
    }
    expect(mediaOf('POST /admin/consumers/{client_id}/suspend', '404')).toEqual(['application/problem+json']);
    expect(mediaOf('GET /reviews/{review_id}', '410')).toEqual(['text/html']);
    for (const where of ops.keys()) expect(mediaOf(where, '500'), where).toEqual(['application/problem+json']);
    expect(Object.keys(ops.get('POST /oauth2/token')!.requestBody!.content)).toEqual(['application/x-www-form-urlencoded']);
  });
});
