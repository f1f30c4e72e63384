import pkg from '../../../package.json' with { type: 'json' };
import { ROUTES, type Route } from '../../contracts/routes.js';
import { HANDLER_PROTOCOLS } from '../http/protocols.js';
import {
  MEDIA,
  problemBody,
  ref,
  registrationRefusal,
  responses,
  SCHEMAS,
  SECURITY_SCHEMES,
  type ParameterSpec,
  type ResponseSpec,
  type Responses,
} from './components.js';
import { queryParameters, requestJsonSchema, type JsonSchema } from './json-schema.js';
import { CHECKED_SCHEMAS, OPERATIONS, PATH_PARAMETERS, type OperationSpec, type Tag } from './operations.js';

/** An OpenAPI Server Object. */
export interface ServerSpec {
  readonly url: string;
  readonly description?: string;
  readonly variables?: Readonly<Record<string, { readonly default: string; readonly description?: string }>>;
}

export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly Tag[];
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly ParameterSpec[];
  readonly requestBody?: { readonly required: true; readonly content: Readonly<Record<string, { readonly schema: JsonSchema }>> };
  readonly responses: Responses;
  /** The Lambda handler that serves the route (from ROUTES). */
  readonly 'x-gatehouse-handler': Route['handler'];
}

export type OpenApiPathItem = Partial<Record<'get' | 'post', OpenApiOperation>>;

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers: readonly ServerSpec[];
  readonly tags: readonly { readonly name: Tag; readonly description: string }[];
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
}

export interface OpenApiOptions {
  /** The first is where clients are sent: a running deployment serves itself here. */
  readonly servers: readonly ServerSpec[];
  /** @default ROUTES */
  readonly routes?: readonly Route[];
  /** @default OPERATIONS */
  readonly operations?: Readonly<Record<string, OperationSpec>>;
}

const TAGS: OpenApiDocument['tags'] = [
  { name: 'Registration', description: 'RFC 7591/7592 dynamic client registration, governed by the access policy.' },
  { name: 'OAuth', description: 'Token, introspection and revocation endpoints (RFC 6749, 7662, 7009, 9068, 9449).' },
  { name: 'Reviews', description: 'HTML pages and form posts for human reviewers, reached through signed, single-use links.' },
  { name: 'Discovery', description: 'Public documents: RFC 8414 metadata, the JWKS and this OpenAPI document.' },
  { name: 'Admin', description: 'Operators’ API: IAM (SigV4) in AWS, the admin token in local mode. Every change is audited.' },
];

const ADMIN_SECURITY = [{ iamSigV4: [] }, { localAdminToken: [] }] as const;

/** `{param}` names in a route path, in order. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table (paths, methods, summaries, auth) and the
 * zod schemas the handlers parse requests with. Throws when a route has no operation metadata or metadata names no
 * route, so neither side can change alone.
 */
export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const routes = options.routes ?? ROUTES;
  const operations: Readonly<Record<string, OperationSpec>> = options.operations ?? OPERATIONS;
  checkCoverage(routes, operations);

  const generated: Record<string, JsonSchema> = {};
  for (const [name, { description, zod }] of Object.entries(CHECKED_SCHEMAS)) generated[name] = { description, ...requestJsonSchema(zod, name) };
  const paths: Record<string, Record<string, OpenApiOperation>> = {};
  for (const route of routes) {
    const spec = operations[route.operationId]!;
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, spec, generated);
  }

  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse', version: pkg.version, description: pkg.description },
    servers: options.servers,
    tags: TAGS,
    paths,
    components: { schemas: { ...SCHEMAS, ...generated }, securitySchemes: SECURITY_SCHEMES },
  };
}

const routeKey = (route: Route): string => `${route.method} ${route.path}`;

function checkCoverage(routes: readonly Route[], operations: Readonly<Record<string, OperationSpec>>): void {
  const keys = routes.map(routeKey);
  const duplicated = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (duplicated.length > 0) throw new Error(`OpenAPI: routes listed twice in ROUTES: ${duplicated.join(', ')}`);
  const ids = routes.map((r) => r.operationId);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) throw new Error(`OpenAPI: operationIds must be unique; repeated: ${[...new Set(repeated)].join(', ')}`);
  const missing = routes.filter((r) => operations[r.operationId] === undefined).map((r) => r.operationId);
  if (missing.length > 0) {
    throw new Error(`OpenAPI: no operation metadata for ${missing.join(', ')}; add an entry per route to OPERATIONS in lambdas/handlers/openapi/operations.ts`);
  }
  const stale = Object.keys(operations).filter((k) => !ids.includes(k));
  if (stale.length > 0) {
    throw new Error(
      `OpenAPI: operation metadata for ${stale.join(', ')}, which ROUTES does not have; remove it from OPERATIONS in lambdas/handlers/openapi/operations.ts`,
    );
  }
}

function operation(route: Route, spec: OperationSpec, generated: Record<string, JsonSchema>): OpenApiOperation {
  const where = routeKey(route);
  if (route.auth === 'iam' && spec.security !== undefined) throw new Error(`OpenAPI: ${where} is an iam route; its security comes from ROUTES, not OPERATIONS`);
  if (route.method === 'GET' && spec.body) throw new Error(`OpenAPI: ${where} is a GET with a request body`);

  const parameters: ParameterSpec[] = [
    ...pathParameterNames(route.path).map((name) => {
      const description = PATH_PARAMETERS[name];
      if (description === undefined)
        throw new Error(`OpenAPI: path parameter {${name}} of ${where} has no description in PATH_PARAMETERS (lambdas/handlers/openapi/operations.ts)`);
      return { name, in: 'path' as const, required: true, description, schema: { type: 'string', minLength: 1 } };
    }),
    ...(spec.query ? queryParameters(spec.query.zod, spec.query.name) : []),
    ...(spec.parameters ?? []),
  ];

  let requestBody: OpenApiOperation['requestBody'];
  const extra: [string, ResponseSpec][] = [];
  if (spec.body) {
    const { name, zod, mediaType } = spec.body;
    if (zod) {
      if (SCHEMAS[name] !== undefined || CHECKED_SCHEMAS[name] !== undefined)
        throw new Error(`OpenAPI: request schema name ${name} (${where}) is already taken by another component`);
      const schema = requestJsonSchema(zod, name);
      const before = generated[name];
      if (before !== undefined && JSON.stringify(before) !== JSON.stringify(schema))
        throw new Error(`OpenAPI: two different request schemas are named ${name}`);
      generated[name] = schema;
    } else if (SCHEMAS[name] === undefined) {
      throw new Error(`OpenAPI: ${where} names request schema ${name}, which components do not have`);
    }
    requestBody = { required: true, content: { [mediaType]: { schema: ref(name) } } };
    // Registration routes answer these in RFC 7591's format too (lambdas/handlers/http/protocols.ts).
    const refusal = HANDLER_PROTOCOLS[route.handler] === 'registration' ? registrationRefusal : problemBody;
    extra.push(['413', refusal('The request body is larger than the API accepts.')]);
    if (mediaType === MEDIA.json) {
      extra.push(['400', refusal('The body is not a JSON object.')], ['415', refusal('The body is not application/json.')]);
    }
  }
  if (route.auth === 'iam') {
    extra.push(
      ['401', problemBody('Local mode: the admin token is missing or wrong.')],
      [
        '403',
        {
          description: 'AWS: API Gateway refused the call (unsigned, or the principal may not invoke this route).',
          content: { [MEDIA.json]: { schema: ref('GatewayMessage') } },
        },
      ],
    );
  }
  extra.push(['500', problemBody('Something failed on the server; nothing was changed.')]);
  const merged = responses(...Object.entries(spec.responses), ...extra);
  const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));

  return {
    operationId: route.operationId,
    summary: route.description,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    security: route.auth === 'iam' ? ADMIN_SECURITY : (spec.security ?? []),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: sorted,
    'x-gatehouse-handler': route.handler,
  };
}
