import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ApiFirewall, type RateLimitedRoute, type WafBodyLimitKiB } from './api-firewall.js';
import { routeThrottles, type RouteThrottling, type ThrottleLimits } from './api-throttling.js';
import { encryptedLogGroup } from './log-encryption-key.js';
import { ROUTES, type HttpHandlerName, type Route } from '../lambdas/contracts/routes.js';

/** The API Gateway stage; part of the issuer URL. */
export const STAGE_NAME = 'v1';

/**
 * Access-log fields, as JSON. Deliberately no query string, headers or body: review links carry their token in `?t=`, and
 * requests carry client credentials and registration access tokens.
 */
export const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: apigateway.AccessLogField.contextRequestId(),
    extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
    requestTime: apigateway.AccessLogField.contextRequestTime(),
    ip: apigateway.AccessLogField.contextIdentitySourceIp(),
    userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
    httpMethod: apigateway.AccessLogField.contextHttpMethod(),
    resourcePath: apigateway.AccessLogField.contextResourcePath(),
    path: apigateway.AccessLogField.contextPath(),
    protocol: apigateway.AccessLogField.contextProtocol(),
    status: apigateway.AccessLogField.contextStatus(),
    responseLength: apigateway.AccessLogField.contextResponseLength(),
    responseLatency: apigateway.AccessLogField.contextResponseLatency(),
    integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
    integrationStatus: apigateway.AccessLogField.contextIntegrationStatus(),
    integrationError: apigateway.AccessLogField.contextIntegrationErrorMessage(),
    errorMessage: apigateway.AccessLogField.contextErrorMessage(),
    xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
  }),
);

export interface GatehouseApiProps {
  /** The function behind each HTTP handler name used by the routes. */
  readonly handlers: Readonly<Record<HttpHandlerName, lambda.IFunction>>;
  /** Key the access-log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * The route table the resources and methods are generated from.
   * @default ROUTES
   */
  readonly routes?: readonly Route[];
  /**
   * Issuer identifier when the API is served from a custom domain (no trailing slash).
   * @default - the execute-api URL of the `v1` stage
   */
  readonly issuer?: string;
  /**
   * Stage-wide steady-state request rate limit (requests per second).
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Stage-wide burst limit (requests).
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * How long access logs are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the access-log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Whether to create the account-level role API Gateway needs to write execution logs (AWS::ApiGateway::Account is one
   * per account and region); set to false where the landing zone already configures it.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /**
   * Method-level throttling by route selector, on top of the stage-wide limits (see {@link RouteThrottling}).
   * @default each route's own throttle (Route.throttle)
   */
  readonly routeThrottling?: RouteThrottling;
  /**
   * The WAF web ACL's body limit and inspection size, in KiB (16, 32, 48 or 64).
   * @default 64 (the handlers' limit)
   */
  readonly maxBodyKiB?: WafBodyLimitKiB;
  /**
   * Requests one client IP may send in any 5 minutes before WAF answers 429.
   * @default 3000
   */
  readonly requestsPerIpPer5Minutes?: number;
  /**
   * Per-IP limits of the route groups with their own (token/introspection/revocation, registration, reviews).
   * @default DEFAULT_ROUTE_RATE_LIMITS
   */
  readonly routeRequestsPerIpPer5Minutes?: Readonly<Partial<Record<RateLimitedRoute, number>>>;
}

/**
 * How each handler's public routes authenticate in the handler itself (API Gateway lets the request through): the reason
 * its methods need no gateway authorizer. `undefined` marks a handler that must never serve a public route.
 */
const HANDLER_AUTHENTICATION: Readonly<Record<HttpHandlerName, string | undefined>> = {
  register:
    'RFC 7591 registration: the request is governed by the policy (software statements for partner and internal tiers, human review above low risk), and nothing is issued before approval',
  'registration-read': 'RFC 7592 read: the handler requires the registration access token issued at registration',
  'registration-manage':
    'RFC 7592 update and delete: the handler requires the registration access token; an update that raises risk goes through the policy and human review',
  token: 'RFC 6749 token endpoint: client authentication (client_secret_basic/post for low risk only, private_key_jwt with single-use jti, DPoP for high risk)',
  introspection: 'RFC 7662 introspection: the calling resource server authenticates as a client with the tokens:introspect scope',
  revocation: 'RFC 7009 revocation: the client authenticates as at the token endpoint and may revoke only its own tokens',
  'revocation-list':
    'the revocation list is public so that every resource server can refuse revoked tokens; it names only token ids and client ids, and is signed',
  discovery: 'JWKS and RFC 8414 metadata are public by standard so that stock clients and resource servers can verify tokens',
  review: 'reviewer pages and decisions require a signed, single-use review link bound to one reviewer and expiring with the review SLA',
  recertification:
    'attestation pages and answers require a signed, single-use attestation link bound to one consumer contact and expiring when the consumer would be suspended',
  admin: undefined,
  'review-links': undefined,
};

/**
 * The REST API, generated from the route table: one resource per path segment, one Lambda proxy method per route,
 * throttled per stage and per route (method settings), behind AWS WAF ({@link ApiFirewall}: body size, per-IP rate,
 * managed rules), with JSON access logs and ERROR-level execution logs without request or response data.
 * `public` routes authenticate with their own protocols in the handlers (client credentials, registration access tokens,
 * software statements, signed review links), so API Gateway lets them through; `iam` routes (the operators' /admin API)
 * use API Gateway IAM authorization: requests must be SigV4-signed by a principal allowed execute-api:Invoke on them.
 */
export class GatehouseApi extends Construct {
  /** The REST API. */
  public readonly restApi: apigateway.RestApi;
  /** Where access logs go. */
  public readonly accessLogGroup: logs.LogGroup;
  /**
   * The issuer identifier and base URL of every endpoint. Built from the API id, not the deployment stage, so the functions
   * can carry it in their environment without a dependency cycle (stage → methods → functions → stage).
   */
  public readonly issuerUrl: string;
  /** The methods created, keyed `METHOD path` as in the route table. */
  public readonly methods: Readonly<Record<string, apigateway.Method>>;
  /** AWS WAF in front of the stage. */
  public readonly firewall: ApiFirewall;
  /** The method-level limits applied, keyed `METHOD path` as in the route table (other routes keep the stage's). */
  public readonly routeThrottles: ReadonlyMap<string, ThrottleLimits>;

  constructor(scope: Construct, id: string, props: GatehouseApiProps) {
    super(scope, id);
    this.accessLogGroup = encryptedLogGroup(this, 'AccessLogs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const cloudWatchRole = props.cloudWatchRole ?? true;
    const routes = props.routes ?? ROUTES;
    this.routeThrottles = routeThrottles(routes, props.routeThrottling);
    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      description: 'Gatehouse: governed onboarding and credentials for API consumers',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole,
      // The account-level role may serve other APIs in the account, so it outlives this stack.
      cloudWatchRoleRemovalPolicy: cloudWatchRole ? RemovalPolicy.RETAIN : undefined,
      deployOptions: {
        stageName: STAGE_NAME,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: ACCESS_LOG_FORMAT,
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
        methodOptions: methodOptions(routes, this.routeThrottles),
      },
    });

    const integrations = new Map<lambda.IFunction, apigateway.LambdaIntegration>();
    const methods: Record<string, apigateway.Method> = {};
    for (const route of routes) {
      const fn = props.handlers[route.handler];
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
        integrations.set(fn, integration);
      }
      const resource = this.restApi.root.resourceForPath(route.path);
      const method = resource.addMethod(route.method, integration, {
        authorizationType: route.auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
      });
      acknowledgeAuthorization(method, route);
      methods[`${route.method} ${route.path}`] = method;
    }
    this.methods = methods;

    this.firewall = new ApiFirewall(this, 'Firewall', {
      stage: this.restApi.deploymentStage,
      logEncryptionKey: props.logEncryptionKey,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      maxBodyKiB: props.maxBodyKiB,
      requestsPerIpPer5Minutes: props.requestsPerIpPer5Minutes,
      routeRequestsPerIpPer5Minutes: props.routeRequestsPerIpPer5Minutes,
    });

    this.issuerUrl = props.issuer ?? `https://${this.restApi.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${STAGE_NAME}`;

    const apiAcknowledgments = Validations.of(this.restApi);
    apiAcknowledgments.acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated in the handlers with zod schemas so that errors follow RFC 7591/6749 (error, error_description); an API Gateway request validator would answer in its own error format.',
    });
    // Caching and a backend client certificate do not apply to an OAuth API with Lambda proxy integrations.
    for (const pack of ['NIST.800.53.R5', 'PCI.DSS.321']) {
      apiAcknowledgments.acknowledge(
        {
          id: `${pack}-APIGWCacheEnabledAndEncrypted`,
          reason:
            'No response of this API may be cached at the gateway: token, introspection, registration and admin responses are per caller (Cache-Control: no-store) and review pages are single-use; JWKS and metadata carry Cache-Control for clients to cache. Without a cache cluster there is no cached data to encrypt.',
        },
        {
          id: `${pack}-APIGWSSLEnabled`,
          reason:
            "The stage client certificate authenticates API Gateway to HTTP backends; every integration here is AWS_PROXY to Lambda, invoked with SigV4 under the API's lambda:InvokeFunction permissions, which never presents a client certificate. Clients reach the stage over TLS 1.2+ only (execute-api endpoint).",
        },
      );
    }
    if (cloudWatchRole) {
      apiAcknowledgments.acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs, the AWS-managed policy API Gateway documents for writing execution logs to the log groups it names per API and stage.',
      });
    }
  }
}

/**
 * Stage method settings for the throttled routes. A method override replaces the stage defaults for that method, so it
 * repeats the stage's logging, metrics and no-data-trace settings with its own limits.
 */
function methodOptions(routes: readonly Route[], limits: ReadonlyMap<string, ThrottleLimits>): Record<string, apigateway.MethodDeploymentOptions> {
  const options: Record<string, apigateway.MethodDeploymentOptions> = {};
  for (const route of routes) {
    const limit = limits.get(`${route.method} ${route.path}`);
    if (!limit) continue;
    options[`${route.path}/${route.method}`] = {
      throttlingRateLimit: limit.rateLimit,
      throttlingBurstLimit: limit.burstLimit,
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      metricsEnabled: true,
      dataTraceEnabled: false,
      cachingEnabled: false,
    };
  }
  return options;
}

/**
 * The authorization findings a method leaves, acknowledged on that method only. A public route has no gateway
 * authorization (APIG4) and no Cognito authorizer (COG4): its handler authenticates the caller. An IAM route satisfies
 * APIG4, so only COG4 remains: that rule accepts nothing but a Cognito user pool authorizer.
 */
function acknowledgeAuthorization(method: apigateway.Method, route: Route): void {
  const where = `${route.method} ${route.path}`;
  if (route.auth === 'iam') {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: `${where} is an operator route with API Gateway IAM authorization (AWS_IAM): callers are IAM principals that sign with SigV4 and need execute-api:Invoke on it; operators are not Cognito users, and a user pool would be a second identity store for them.`,
    });
    return;
  }
  const authentication = HANDLER_AUTHENTICATION[route.handler];
  if (authentication === undefined) {
    throw new Error(`GatehouseApi: ${where} is public, but the ${route.handler} handler authenticates nobody itself; give the route auth: 'iam'`);
  }
  Validations.of(method).acknowledge(
    { id: 'AwsSolutions-APIG4', reason: `${where} is public at the gateway because the handler authenticates: ${authentication}.` },
    {
      id: 'AwsSolutions-COG4',
      reason: `${where}: consumers are OAuth clients of Gatehouse itself, not Cognito users, and the handler authenticates them: ${authentication}.`,
    },
  );
}
