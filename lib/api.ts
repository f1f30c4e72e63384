import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { encryptedLogGroup } from './log-encryption-key.js';
import { ROUTES, type HttpHandlerName, type Route } from './routes.js';

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
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Whether to create the account-level role API Gateway needs to write execution logs (AWS::ApiGateway::Account is one
   * per account and region); set to false where the landing zone already configures it.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
}

/**
 * The public REST API, generated from the route table: one resource per path segment, one Lambda proxy method per route.
 * The routes authenticate with their own protocols (client credentials, registration access tokens, software statements,
 * signed review links), so no API Gateway authorizer is attached.
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

  constructor(scope: Construct, id: string, props: GatehouseApiProps) {
    super(scope, id);
    this.accessLogGroup = encryptedLogGroup(this, 'AccessLogs', {
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const cloudWatchRole = props.cloudWatchRole ?? true;
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
      },
    });

    const integrations = new Map<lambda.IFunction, apigateway.LambdaIntegration>();
    const methods: Record<string, apigateway.Method> = {};
    for (const route of props.routes ?? ROUTES) {
      const fn = props.handlers[route.handler];
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
        integrations.set(fn, integration);
      }
      const resource = this.restApi.root.resourceForPath(route.path);
      methods[`${route.method} ${route.path}`] = resource.addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
      });
    }
    this.methods = methods;

    this.issuerUrl = props.issuer ?? `https://${this.restApi.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/${STAGE_NAME}`;

    const apiAcknowledgments = Validations.of(this.restApi);
    apiAcknowledgments.acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Requests are validated in the handlers with zod schemas so that errors follow RFC 7591/6749 (error, error_description); an API Gateway request validator would answer in its own error format.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason: 'AWS WAF (rate-based and managed rule groups) in front of the stage is the follow-up issue "WAF for the public API"; the stage is throttled meanwhile.',
      },
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Every route authenticates with its own protocol: POST /register with software statements and policy review, GET /register/{client_id} with the RFC 7592 registration access token, POST /oauth2/token with client credentials (client_secret_basic or private_key_jwt, DPoP for high risk), POST /oauth2/introspect (RFC 7662) and POST /oauth2/revoke (RFC 7009) with the same client authentication; the /.well-known documents are public by standard (RFC 8414, JWKS).',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'Consumers are OAuth clients of Gatehouse itself, not Cognito users; each route authenticates with its protocol (software statements, registration access tokens, client credentials for token, introspection and revocation) or is a public discovery document.',
      },
    );
    if (cloudWatchRole) {
      apiAcknowledgments.acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level API Gateway logging role uses AmazonAPIGatewayPushToCloudWatchLogs, the AWS-managed policy API Gateway documents for writing execution logs to the log groups it names per API and stage.',
      });
    }
  }
}
