import { routeNamed, type OperationId } from '../../../../lambdas/contracts/routes.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ClientMetadataSchema } from '../../../../lambdas/core/registration/metadata.js';
import * as adminSchemas from '../../../../lambdas/handlers/admin-schemas.js';
import { queryParameters, requestJsonSchema } from '../../../../lambdas/handlers/openapi/json-schema.js';
import { OPERATIONS, type OperationSpec } from '../../../../lambdas/handlers/openapi/operations.js';
import { publishedDocument } from '../../../../lambdas/handlers/openapi/published.js';

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const doc = publishedDocument();
const BASE = 'https://gatehouse.test/openapi.json';

/** A draft 2020-12 validator over the document's components, strict about keywords and formats. */
function validatorFor(options: { coerceTypes?: boolean } = {}): (pointer: string) => (value: unknown) => boolean {
  const ajv = new Ajv2020({ strict: true, allErrors: true, ...options });
  addFormats(ajv);
  ajv.addKeyword({ keyword: 'components' });
  ajv.addSchema({ $id: BASE, components: { schemas: doc.components.schemas } });
  return (pointer) => {
    const validate = ajv.getSchema(`${BASE}#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return (value) => validate(value) as boolean;
  };
}

const operations = Object.entries(OPERATIONS) as [string, OperationSpec][];
const bodies = operations.flatMap(([where, op]) => (op.body?.zod ? [{ where, name: op.body.name, zod: op.body.zod }] : []));

describe('request schemas in the OpenAPI document', () => {
  it('are the schemas the handlers parse with', () => {
    expect(OPERATIONS.registerClient.body?.zod).toBe(ClientMetadataSchema);
    expect(OPERATIONS.rotateConsumerSecret.body?.zod).toBe(adminSchemas.RotateSecretBody);
    for (const id of ['suspendConsumer', 'terminateConsumer', 'requestReinstatement'] as const) {
      expect(OPERATIONS[id].body?.zod, id).toBe(adminSchemas.ReasonBody);
    }
    expect(OPERATIONS.evaluatePolicy.body?.zod).toBe(adminSchemas.EvaluateBody);
    expect(OPERATIONS.requestException.body?.zod).toBe(adminSchemas.ExceptionBody);
    expect(OPERATIONS.listConsumers.query?.zod).toBe(adminSchemas.ListConsumersQuery);
    expect(OPERATIONS.listExceptions.query?.zod).toBe(adminSchemas.ListExceptionsQuery);
  });

  it('document every schema admin-schemas.ts exports, so a new admin request schema cannot go undocumented', () => {
    const used = new Set<unknown>(operations.flatMap(([, op]) => [op.body?.zod, op.query?.zod]));
    const exported = Object.entries(adminSchemas).filter(([, value]) => value instanceof z.core.$ZodType);
    expect(exported.length).toBeGreaterThan(0);
    expect(
      exported.filter(([, schema]) => !used.has(schema)).map(([name]) => name),
      'admin-schemas.ts exports not used by any operation in lambdas/handlers/openapi/operations.ts',
    ).toEqual([]);
  });

  it('compile, every component schema, under a strict draft 2020-12 validator (known formats, no ambiguous types)', () => {
    const schemaAt = validatorFor();
    const names = Object.keys(doc.components.schemas);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(() => schemaAt(`/components/schemas/${name}`), name).not.toThrow();
  });

  it.each(bodies)('$where: components.schemas.$name is the JSON Schema of the zod schema, as requests send it', ({ name, zod }) => {
    expect(doc.components.schemas[name]).toEqual(requestJsonSchema(zod, name));
    expect(doc.paths).toBeDefined();
  });
});

/**
 * Where the handler is stricter than the document, by case label: zod refinements and `trim()` before a length check
 * have no JSON Schema form, so the document accepts these and the handler refuses them (a jwks_uri that is not an https URL,
 * a JWK with private members too, a blank client_name is empty once trimmed). The reverse (the document refusing what
 * the handler accepts) is never allowed.
 */
const LOOSER_IN_DOCUMENT: Readonly<Record<string, readonly string[]>> = {
  ClientMetadata: ['jwks_uri', 'jwks.keys.0.d', 'client_name = " "'],
};

const future = '2030-01-01T00:00:00Z';
const VALID: Readonly<Record<string, Record<string, unknown>>> = {
  ClientMetadata: {
    client_name: 'FX rates widget',
    tier: 'partner',
    scope: 'reference-data:read accounts:read',
    purpose: 'Show daily FX rates',
    data_classes: ['public'],
    contacts: ['dev@fintech.example'],
    expires_at: future,
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    response_types: [],
    jwks: {
      keys: [{ kty: 'EC', kid: 'k1', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }],
    },
    software_id: 'fx-widget',
    software_version: '1.2.0',
    software_statement: 'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    client_uri: 'https://fintech.example/fx',
    dpop_bound_access_tokens: true,
  },
  ReasonBody: { reason: 'Suspected credential leak reported by the partner' },
  RotateSecretBody: { reason: 'Secret found in a public repository', compromised: true },
  ExceptionBody: {
    client_id: 'c-123',
    rule: 'dormancy_days',
    value: 120,
    justification: 'Quarterly batch job that runs four times a year',
    expires_at: '2030-01-01T00:00:00+01:00',
  },
  EvaluateBody: {
    scope: 'payments:initiate',
    tier: 'partner',
    purpose: 'Pay suppliers',
    data_classes: ['payments'],
    contacts: ['ops@sme.example'],
    token_endpoint_auth_method: 'client_secret_basic',
    assume_software_statement: true,
  },
};

/** Values tried in place of each member: wrong types, empty and oversized values, and values valid elsewhere. */
const MUTANTS: readonly unknown[] = [
  null,
  0,
  -1,
  1.5,
  42,
  100_000,
  true,
  '',
  ' ',
  'x',
  'x'.repeat(3000),
  [],
  ['a'],
  [1],
  {},
  { keys: [] },
  future,
  'not-a-date',
  'a@b.example',
  'https://x.example',
  'client_secret_post',
  'none',
  'public',
  'auth_method',
];

function setAt(value: Record<string, unknown>, path: string, to: unknown): Record<string, unknown> {
  const copy = structuredClone(value);
  const parts = path.split('.');
  let node: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  if (to === undefined) delete node[parts.at(-1)!];
  else node[parts.at(-1)!] = to;
  return copy;
}

describe('the document and the handlers agree on request bodies (ajv on the document, zod as the handler)', () => {
  const schemaAt = validatorFor();

  it.each(bodies)('$where: the same verdict on a valid body and on every mutation of each member', ({ name, zod }) => {
    const valid = VALID[name];
    expect(valid, `add a valid ${name} sample to this test`).toBeDefined();
    const documentAccepts = schemaAt(`/components/schemas/${name}`);
    expect(documentAccepts(valid)).toBe(true);
    expect(z.safeParse(zod, valid).success).toBe(true);

    const members = Object.keys((doc.components.schemas[name] as { properties: Record<string, unknown> }).properties);
    const cases: [string, Record<string, unknown>][] = [['an unknown member', { ...valid, unknown_member: 1 }]];
    for (const member of members) {
      cases.push([`${member} removed`, setAt(valid, member, undefined)]);
      for (const mutant of MUTANTS) cases.push([`${member} = ${JSON.stringify(mutant).slice(0, 24)}`, setAt(valid, member, mutant)]);
    }
    cases.push(['jwks.keys.0.d', name === 'ClientMetadata' ? setAt(valid, 'jwks.keys.0.d', 'private') : valid]);

    let refused = 0;
    const disagreements: string[] = [];
    for (const [label, body] of cases) {
      const byDocument = documentAccepts(body);
      const byHandler = z.safeParse(zod, body).success;
      if (!byHandler) refused++;
      if (byDocument === byHandler) continue;
      const known = !byHandler && (LOOSER_IN_DOCUMENT[name] ?? []).some((path) => label === path || label.startsWith(`${path} `));
      if (!known) disagreements.push(`${label}: document ${byDocument ? 'accepts' : 'refuses'}, handler ${byHandler ? 'accepts' : 'refuses'}`);
    }
    expect(disagreements).toEqual([]);
    // The mutations must actually probe the schema: most of them are refused by both.
    expect(refused).toBeGreaterThan(cases.length / 3);
  });
});

describe('query parameters', () => {
  const queries = operations.flatMap(([where, op]) => (op.query ? [{ where, ...op.query }] : []));

  it.each(queries)('$where: one parameter per member of $name, required as the schema says', ({ where, zod, name }) => {
    const route = routeNamed(where as OperationId);
    const declared = (doc.paths[route.path]![route.method === 'GET' ? 'get' : 'post']!.parameters ?? []).filter((p) => p.in === 'query');
    expect(declared).toEqual(queryParameters(zod, name));
    const shape = (zod as z.ZodObject).shape;
    expect(declared.map((p) => p.name).sort()).toEqual(Object.keys(shape).sort());
    for (const p of declared) expect(p.required, p.name).toBe(!shape[p.name]!.safeParse(undefined).success);
  });

  it('gives query strings the verdict the handler gives (values arrive as strings and are coerced)', () => {
    const ajv = new Ajv2020({ strict: true, coerceTypes: true });
    addFormats(ajv);
    const params = doc.paths['/admin/consumers']!.get!.parameters!.filter((p) => p.in === 'query');
    const schema = {
      type: 'object',
      properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
      required: params.filter((p) => p.required).map((p) => p.name),
    };
    const samples: Record<string, string>[] = [
      {},
      { status: 'active', tier: 'partner', limit: '50' },
      { dormant_within_days: '30', expiring_within_days: '0', cursor: 'abc' },
      { limit: '0' },
      { limit: '501' },
      { limit: 'ten' },
      { dormant_within_days: '1.5' },
      { expiring_within_days: '1096' },
      { status: 'sleeping' },
      { cursor: 'x'.repeat(2001) },
    ];
    for (const sample of samples) {
      const byDocument = ajv.validate(schema, structuredClone(sample));
      expect(byDocument, JSON.stringify(sample)).toBe(adminSchemas.ListConsumersQuery.safeParse(sample).success);
    }
  });
});

describe('requestJsonSchema', () => {
  it('refuses schemas that would need a $ref, which would not resolve inside the OpenAPI document', () => {
    const Shared = z.string().meta({ id: 'OpenApiTestShared' });
    expect(() => requestJsonSchema(z.object({ a: Shared, b: Shared }), 'Shared')).toThrow(/Shared produced a \$ref\/\$defs/);
  });

  it('refuses recursive schemas', () => {
    const Tree: z.ZodType = z.object({
      get children() {
        return z.array(Tree);
      },
    });
    expect(() => requestJsonSchema(Tree, 'Tree')).toThrow();
  });

  it('describes the request as sent: defaulted members are optional and the $schema keyword is left to the document', () => {
    const schema = requestJsonSchema(z.object({ a: z.string(), b: z.number().default(1) }), 'AB');
    expect(schema).toEqual({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number', default: 1 } }, required: ['a'] });
  });

  it('refuses a query schema that is not an object', () => {
    expect(() => queryParameters(z.string(), 'NotAnObject')).toThrow(/NotAnObject is not an object schema/);
  });
});
