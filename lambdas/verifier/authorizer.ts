import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { REVOCATION_LIST_PATH } from '../core/revocation/document.js';
import '../core/util/zod-messages.js';
import { AccessError } from './errors.js';
import { requestUrl } from './middleware.js';
import { createAccessTokenVerifier, type VerifiedAccess, type VerifierOptions } from './verify-access-token.js';

/** Environment variables the authorizer function reads at start-up; GatehouseAuthorizer (lib/) sets them. */
export const AUTHORIZER_ENV = {
  issuer: 'GATEHOUSE_AUTHZ_ISSUER',
  audience: 'GATEHOUSE_AUTHZ_AUDIENCE',
  jwksUri: 'GATEHOUSE_AUTHZ_JWKS_URI',
  routeScopes: 'GATEHOUSE_AUTHZ_ROUTE_SCOPES',
  publicBaseUrl: 'GATEHOUSE_AUTHZ_PUBLIC_BASE_URL',
  revocationsUri: 'GATEHOUSE_AUTHZ_REVOCATIONS_URI',
  revocationRefreshSeconds: 'GATEHOUSE_AUTHZ_REVOCATION_REFRESH_SECONDS',
  revocationMaxStaleSeconds: 'GATEHOUSE_AUTHZ_REVOCATION_MAX_STALE_SECONDS',
} as const;

/** `METHOD /resource/path` as API Gateway names the resource (`{param}`, `{proxy+}`); `ANY` covers every method. */
const ROUTE_KEY = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) \/[^\s]*$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

/** The route → required scopes map; a route that is not in it is denied. */
export const RouteScopesSchema = z.record(z.string(), z.array(z.string().check(z.regex(SCOPE, 'must be an RFC 6749 scope token (no spaces or quotes)')))).check(
  z.superRefine((routes, ctx) => {
    for (const key of Object.keys(routes)) {
      if (!ROUTE_KEY.test(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be "METHOD /resource/path" (API Gateway resource path, e.g. "GET /accounts/{id}")' });
    }
  }),
);
export type RouteScopes = z.infer<typeof RouteScopesSchema>;

/** Keys fetched over plain HTTP could be swapped in transit, and with them every token accepted. */
export const HttpsUrlSchema = z.url().check(z.refine((u) => u.startsWith('https://'), 'must be an https URL'));

/** A whole number of seconds from an environment variable; absent or empty means the default. */
const secondsSetting = (max: number) =>
  z.pipe(
    z.transform((v: unknown) => (v === undefined || v === '' ? undefined : Number(v))),
    z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(max))),
  );

const AuthorizerEnvSchema = z.object({
  [AUTHORIZER_ENV.issuer]: HttpsUrlSchema,
  [AUTHORIZER_ENV.audience]: z.string().check(z.minLength(1)),
  [AUTHORIZER_ENV.jwksUri]: z.optional(HttpsUrlSchema),
  [AUTHORIZER_ENV.routeScopes]: z.pipe(
    z.pipe(
      z.string(),
      z.transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.issues.push({ code: 'custom', message: 'is not valid JSON', input: text });
          return z.NEVER;
        }
      }),
    ),
    RouteScopesSchema,
  ),
  [AUTHORIZER_ENV.publicBaseUrl]: z.pipe(
    z.transform((v: unknown) => (v === '' ? undefined : v)),
    z.optional(z.url()),
  ),
  [AUTHORIZER_ENV.revocationsUri]: z.optional(HttpsUrlSchema),
  [AUTHORIZER_ENV.revocationRefreshSeconds]: secondsSetting(300),
  [AUTHORIZER_ENV.revocationMaxStaleSeconds]: secondsSetting(600),
});

/** The authorizer's environment is unusable: the function fails at start-up, so API Gateway answers 500 (fail closed). */
export class AuthorizerConfigError extends Error {
  override readonly name = 'AuthorizerConfigError';
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`The Gatehouse authorizer configuration is invalid:\n  - ${issues.join('\n  - ')}`);
    this.issues = issues;
  }
}

/** What the authorizer writes to its logs; Powertools Logger satisfies it. Never given tokens or proofs. */
export interface AuthorizerLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export interface AuthorizerOptions extends Pick<
  VerifierOptions,
  'issuer' | 'audience' | 'jwks' | 'now' | 'clockToleranceSeconds' | 'claimOnce' | 'revocations'
> {
  /** Scopes each route requires, keyed `METHOD /resource/path`; routes missing from the map are denied. */
  readonly routeScopes: Readonly<Record<string, readonly string[]>>;
  /**
   * The API's public base URL (e.g. https://api.bank.example/v1), the DPoP `htu` prefix.
   * @default - scheme, Host header and stage path of the request
   */
  readonly publicBaseUrl?: string | undefined;
  /** @default a Powertools Logger for service `gatehouse-authorizer` */
  readonly log?: AuthorizerLog;
}

/** What an allowed request's integration sees in `requestContext.authorizer`; `jkt` only for DPoP-bound tokens. */
export interface AuthorizerContext {
  readonly clientId: string;
  /** The token's scopes, space-separated. */
  readonly scope: string;
  readonly jkt?: string;
}

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** Reads the authorizer's configuration from the environment (once, at start-up); throws AuthorizerConfigError. */
export function authorizerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuthorizerOptions {
  const parsed = AuthorizerEnvSchema.safeParse(Object.fromEntries(Object.values(AUTHORIZER_ENV).map((name) => [name, env[name]])));
  if (!parsed.success) throw new AuthorizerConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  const config = parsed.data;
  const issuer = config[AUTHORIZER_ENV.issuer];
  return {
    issuer,
    audience: config[AUTHORIZER_ENV.audience],
    jwks: new URL(config[AUTHORIZER_ENV.jwksUri] ?? defaultJwksUri(issuer)),
    routeScopes: config[AUTHORIZER_ENV.routeScopes],
    publicBaseUrl: config[AUTHORIZER_ENV.publicBaseUrl],
    // Always on: an authorizer that ignored revocations would let a suspended consumer's tokens through until they expire.
    revocations: {
      url: new URL(config[AUTHORIZER_ENV.revocationsUri] ?? defaultRevocationsUri(issuer)),
      ...(config[AUTHORIZER_ENV.revocationRefreshSeconds] !== undefined ? { refreshSeconds: config[AUTHORIZER_ENV.revocationRefreshSeconds] } : {}),
      ...(config[AUTHORIZER_ENV.revocationMaxStaleSeconds] !== undefined ? { maxStaleSeconds: config[AUTHORIZER_ENV.revocationMaxStaleSeconds] } : {}),
    },
  };
}

/** Where Gatehouse publishes its revocation list under an issuer. */
export function defaultRevocationsUri(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}${REVOCATION_LIST_PATH}`;
}

/** Where Gatehouse publishes its keys under an issuer. */
export function defaultJwksUri(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/jwks.json`;
}

/**
 * API Gateway REST REQUEST authorizer over the Gatehouse access-token verifier. A valid token (and DPoP proof for bound
 * tokens) with the route's scopes gets an Allow for exactly `event.methodArn`; a missing, invalid or revoked token or
 * proof, or one that cannot be checked against a fresh enough revocation list, throws `Unauthorized` (API Gateway's
 * 401); missing scopes, or a route absent from the map, get a Deny (403).
 */
export function createAuthorizerHandler(options: AuthorizerOptions): AuthorizerHandler {
  const verify = createAccessTokenVerifier(options);
  const routeScopes = new Map(Object.entries(options.routeScopes));
  const log = options.log ?? new Logger({ serviceName: 'gatehouse-authorizer' });

  return async (event) => {
    const route = `${event.httpMethod} ${event.resource}`;
    const required = routeScopes.get(route) ?? routeScopes.get(`ANY ${event.resource}`);
    if (required === undefined) {
      // A route nobody configured is a deployment gap, not a client error: refuse it and say so in the logs.
      log.warn('authorizer.route_not_configured', { route });
      return policy('Deny', 'anonymous', event.methodArn, { error: 'route_not_configured' });
    }

    let access: VerifiedAccess;
    try {
      access = await verify({
        authorization: header(event, 'authorization'),
        dpop: header(event, 'dpop'),
        method: event.httpMethod,
        // requestUrl reads only path, headers and requestContext, which REQUEST authorizer events carry like proxy events.
        url: requestUrl(event as unknown as APIGatewayProxyEvent, options.publicBaseUrl),
      });
    } catch (error) {
      if (!(error instanceof AccessError)) throw error;
      log.info('authorizer.unauthorized', { route, error: error.code, reason: error.message });
      // The exact message API Gateway turns into a 401 (the UNAUTHORIZED gateway response).
      throw new Error('Unauthorized', { cause: error });
    }

    // Scopes are checked here rather than in the verifier so that the Deny names the client it refuses.
    const missing = required.filter((s) => !access.scopes.includes(s));
    if (missing.length > 0) {
      log.info('authorizer.denied', { route, error: 'insufficient_scope', clientId: access.clientId, missing });
      return policy('Deny', access.clientId, event.methodArn, { clientId: access.clientId, error: 'insufficient_scope' });
    }
    const context: AuthorizerContext = { clientId: access.clientId, scope: access.scopes.join(' '), ...(access.jkt ? { jkt: access.jkt } : {}) };
    return policy('Allow', access.clientId, event.methodArn, { ...context });
  };
}

function policy(effect: 'Allow' | 'Deny', principalId: string, methodArn: string, context: Record<string, string>): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }] },
    context,
  };
}

function header(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return entry?.[1] ?? undefined;
}
