import { Aspects, Duration, Stack, Token, Validations, type IAspect, type RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import * as z from 'zod';
import { AUTHORIZER_ENV, defaultJwksUri, defaultRevocationsUri, HttpsUrlSchema, RouteScopesSchema } from '../lambdas/verifier/authorizer.js';
import { AUTHORIZER, type FunctionSpec } from '../lambdas/contracts/functions.js';
import { GatehouseFunction } from './gatehouse-function.js';
import { LogEncryptionKey } from './log-encryption-key.js';

/** Lambda allows 4 KB of environment per function; the route map shares it with the other settings. */
const MAX_ROUTE_SCOPES_BYTES = 3072;

export interface GatehouseAuthorizerProps {
  /** Gatehouse's issuer identifier (its API base URL, e.g. `GatehouseStack.api.issuerUrl`): tokens must carry it as `iss`. */
  readonly issuer: string;
  /** This API's identifier: tokens must carry it in `aud` (Gatehouse's `tokenAudience`). */
  readonly audience: string;
  /**
   * Where Gatehouse publishes the keys that sign access tokens.
   * @default `${issuer}/.well-known/jwks.json`
   */
  readonly jwksUri?: string;
  /**
   * Where Gatehouse publishes its signed revocation list; tokens it names are refused.
   * @default `${issuer}/oauth2/revocations`
   */
  readonly revocationsUri?: string;
  /**
   * How often the authorizer fetches the revocation list again (whole seconds, 1 to 300). A revocation reaches this API
   * at most this long plus Gatehouse's 15-second cache after it is made.
   * @default Duration.seconds(30)
   */
  readonly revocationRefresh?: Duration;
  /**
   * How old the last good revocation list may get while fetches fail (whole seconds, 1 to 600); past it every token is
   * refused (fail closed) until a fetch succeeds.
   * @default Duration.minutes(5)
   */
  readonly revocationMaxStale?: Duration;
  /**
   * Scopes each protected method requires, keyed `METHOD /resource/path` with API Gateway's resource path
   * (`GET /accounts/{id}`; `ANY /path` covers every method of a resource). A method missing from the map is denied at
   * runtime, and synthesis fails if a method using this authorizer has no entry.
   */
  readonly routeScopes: Readonly<Record<string, readonly string[]>>;
  /**
   * The API's public base URL (e.g. https://api.bank.example/v1), the prefix of the DPoP `htu` clients sign.
   * @default - scheme, Host header and stage path of each request
   */
  readonly publicBaseUrl?: string;
  /**
   * Key the function's log group is encrypted with.
   * @default - a new LogEncryptionKey
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Entry, memory and timeout of the function.
   * @default AUTHORIZER
   */
  readonly functionSpec?: FunctionSpec;
}

/**
 * Protects a REST API with Gatehouse access tokens: a Lambda REQUEST authorizer that verifies the RFC 9068 token against
 * Gatehouse's JWKS and its signed revocation list, the DPoP proof of bound tokens and the scopes of the route, in one line:
 *
 * ```ts
 * resource.addMethod('GET', integration, {
 *   authorizer: new GatehouseAuthorizer(this, 'Authz', { issuer, audience, routeScopes: { 'GET /accounts': ['accounts:read'] } }).authorizer,
 * });
 * ```
 *
 * Results are never cached (a DPoP proof is valid for one request), and the Allow names only the method called. The
 * integration receives `clientId`, `scope` and, for bound tokens, `jkt` in `requestContext.authorizer`. Methods of this
 * construct's stack that use the authorizer are checked against `routeScopes` at synthesis and acknowledged for cdk-nag
 * AwsSolutions-COG4 (they are authorised by Gatehouse, not Cognito).
 */
export class GatehouseAuthorizer extends Construct {
  /** The API Gateway authorizer, for `MethodOptions.authorizer`. */
  public readonly authorizer: apigateway.RequestAuthorizer;
  /** The function that verifies tokens. */
  public readonly function: lambda.Function;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  private readonly protectedMethods: apigateway.Method[] = [];

  constructor(scope: Construct, id: string, props: GatehouseAuthorizerProps) {
    super(scope, id);
    const routeScopes = validateRouteScopes(props.routeScopes);
    // Values known only at deploy time (another stack's issuer output) are checked by the function at start-up.
    for (const [name, value, schema] of [
      ['issuer', props.issuer, HttpsUrlSchema],
      ['jwksUri', props.jwksUri, HttpsUrlSchema],
      ['revocationsUri', props.revocationsUri, HttpsUrlSchema],
      ['publicBaseUrl', props.publicBaseUrl, z.url()],
    ] as const) {
      if (value !== undefined && !Token.isUnresolved(value) && !schema.safeParse(value).success) {
        throw new Error(`GatehouseAuthorizer: ${name} must be ${schema === HttpsUrlSchema ? 'an https' : 'a'} URL, got "${value}"`);
      }
    }

    const fn = new GatehouseFunction(this, 'Function', {
      spec: props.functionSpec ?? AUTHORIZER,
      logEncryptionKey: props.logEncryptionKey ?? new LogEncryptionKey(this, 'LogEncryption').key,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      description: 'Gatehouse resource-server authorizer: verifies Gatehouse access tokens, DPoP proofs and route scopes',
      environment: {
        POWERTOOLS_SERVICE_NAME: 'gatehouse-authorizer',
        [AUTHORIZER_ENV.issuer]: props.issuer,
        [AUTHORIZER_ENV.audience]: props.audience,
        [AUTHORIZER_ENV.jwksUri]: props.jwksUri ?? defaultJwksUri(props.issuer),
        [AUTHORIZER_ENV.revocationsUri]: props.revocationsUri ?? defaultRevocationsUri(props.issuer),
        ...(props.revocationRefresh !== undefined ? { [AUTHORIZER_ENV.revocationRefreshSeconds]: String(props.revocationRefresh.toSeconds()) } : {}),
        ...(props.revocationMaxStale !== undefined ? { [AUTHORIZER_ENV.revocationMaxStaleSeconds]: String(props.revocationMaxStale.toSeconds()) } : {}),
        [AUTHORIZER_ENV.routeScopes]: JSON.stringify(routeScopes),
        ...(props.publicBaseUrl !== undefined ? { [AUTHORIZER_ENV.publicBaseUrl]: props.publicBaseUrl } : {}),
      },
    });
    this.function = fn.function;
    this.logGroup = fn.logGroup;

    this.authorizer = new apigateway.RequestAuthorizer(this, 'Authorizer', {
      handler: this.function,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      // A DPoP proof is bound to one request (jti, iat, htu), so an authorizer result must never be reused.
      resultsCacheTtl: Duration.seconds(0),
    });

    Aspects.of(Stack.of(this)).add(new ProtectedMethods(this.authorizer, (method) => this.protectedMethods.push(method)));
    this.node.addValidation({
      validate: () =>
        this.protectedMethods
          .map((method) => [`${method.httpMethod} ${method.resource.path}`, `ANY ${method.resource.path}`] as const)
          .filter(([key, any]) => !Object.hasOwn(routeScopes, key) && !Object.hasOwn(routeScopes, any))
          .map(([key]) => `GatehouseAuthorizer: "${key}" uses this authorizer but has no routeScopes entry, so every request to it would be denied`),
    });
  }
}

/** Finds the methods authorised by one authorizer and acknowledges COG4 on each. */
class ProtectedMethods implements IAspect {
  private readonly seen = new Set<apigateway.Method>();

  constructor(
    private readonly authorizer: apigateway.IAuthorizer,
    private readonly found: (method: apigateway.Method) => void,
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof apigateway.Method) || this.seen.has(node)) return;
    if ((node.node.defaultChild as apigateway.CfnMethod).authorizerId !== this.authorizer.authorizerId) return;
    this.seen.add(node);
    this.found(node);
    Validations.of(node).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        "This method is authorised by GatehouseAuthorizer, a Lambda REQUEST authorizer that verifies Gatehouse RFC 9068 access tokens (signature against the Gatehouse JWKS, iss, aud, expiry), DPoP proofs of bound tokens and the route's scopes; the callers are OAuth clients of Gatehouse, not Cognito users.",
    });
  }
}

function validateRouteScopes(routeScopes: Readonly<Record<string, readonly string[]>>): z.infer<typeof RouteScopesSchema> {
  const parsed = RouteScopesSchema.safeParse(routeScopes);
  if (!parsed.success) {
    throw new Error(
      `GatehouseAuthorizer: routeScopes is invalid:\n  - ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('\n  - ')}`,
    );
  }
  if (Object.keys(parsed.data).length === 0) throw new Error('GatehouseAuthorizer: routeScopes is empty, so every request would be denied');
  const size = Buffer.byteLength(JSON.stringify(parsed.data));
  if (size > MAX_ROUTE_SCOPES_BYTES) {
    throw new Error(
      `GatehouseAuthorizer: routeScopes is ${size} bytes; it travels in the function's environment (4 KB in total), so keep it under ${MAX_ROUTE_SCOPES_BYTES} bytes`,
    );
  }
  return parsed.data;
}
