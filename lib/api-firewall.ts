import { ArnFormat, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { deploymentName } from './deployment-names.js';
import { encryptedLogGroup } from './log-encryption-key.js';

/**
 * Body sizes (KiB) AWS WAF can inspect for an API Gateway stage: 16 KiB is included in the web ACL price, each further
 * 16 KiB is charged per request inspected.
 */
export const WAF_BODY_LIMITS_KIB = [16, 32, 48, 64] as const;
export type WafBodyLimitKiB = (typeof WAF_BODY_LIMITS_KIB)[number];

/** The largest body the handlers accept (lambdas/adapters/aws/services.ts maxBodyBytes), in KiB. */
export const HANDLER_BODY_LIMIT_KIB = 64;

/** Rules of the AWS Common Rule Set that the firewall counts instead of blocking, and why. */
export const COMMON_RULE_SET_COUNTED: Readonly<Record<string, string>> = {
  // Gatehouse's own BodySizeLimit rule, evaluated first, enforces the handlers' limit on the whole body.
  SizeRestrictions_BODY: 'blocks bodies over 8 KiB, below the 64 KiB registrations with software statements and JWKS may need',
  // Machine clients such as .NET's HttpClient send no User-Agent by default.
  NoUserAgent_HEADER: 'blocks requests without a User-Agent, which several OAuth client stacks (.NET HttpClient) do not send by default',
};

/** Routes with a per-IP rate limit of their own; every other route shares `requestsPerIpPer5Minutes`. */
export type RateLimitedRoute = 'oauth2' | 'register' | 'reviews';

/**
 * Requests one client IP may send to each route group in any 5 minutes. `oauth2` (token, introspection, revocation) is
 * the hot path: one partner, or one resource server, behind a NAT sends its whole load from one address, so its limit
 * sits well above the token route's designed 1,000 requests per second (300,000 in 5 minutes) and only stops a flood.
 * `register` and `reviews` are used by people and the commercial side a few times a day, so their limits are tight.
 */
export const DEFAULT_ROUTE_RATE_LIMITS: Readonly<Record<RateLimitedRoute, number>> = { oauth2: 300_000, register: 100, reviews: 300 };

/**
 * How WAF recognises each route group in the URI path. API Gateway's path starts with the stage (`/v1`) on the
 * execute-api domain and with a base path (or nothing) on a custom domain, so the match is on what follows.
 */
export const ROUTE_MATCHES: Readonly<Record<RateLimitedRoute, { readonly searchString: string; readonly positionalConstraint: 'CONTAINS' }>> = {
  oauth2: { searchString: '/oauth2/', positionalConstraint: 'CONTAINS' },
  register: { searchString: '/register', positionalConstraint: 'CONTAINS' },
  reviews: { searchString: '/reviews/', positionalConstraint: 'CONTAINS' },
};

const RULE_NAMES: Readonly<Record<RateLimitedRoute, string>> = {
  oauth2: 'RateLimitOAuth2PerIp',
  register: 'RateLimitRegisterPerIp',
  reviews: 'RateLimitReviewsPerIp',
};

export interface ApiFirewallProps {
  /** The stage the web ACL protects. */
  readonly stage: apigateway.Stage;
  /** Key the WAF log group is encrypted with. */
  readonly logEncryptionKey: kms.IKey;
  /**
   * The largest request body let through, in KiB; it is also how much of a body WAF inspects, so the managed rules see
   * every byte of what reaches a handler. Bodies above it are refused with 413 before any Lambda runs.
   * @default 64 (the handlers' own limit)
   */
  readonly maxBodyKiB?: WafBodyLimitKiB;
  /**
   * Requests one client IP may send in any 5-minute window to the routes without a limit of their own (discovery, admin)
   * before WAF answers 429 (AWS WAF rate-based rule, 10 or more).
   * @default 3000
   */
  readonly requestsPerIpPer5Minutes?: number;
  /**
   * Per-IP limits (requests in any 5 minutes) of the route groups with their own, merged over DEFAULT_ROUTE_RATE_LIMITS.
   * @default DEFAULT_ROUTE_RATE_LIMITS
   */
  readonly routeRequestsPerIpPer5Minutes?: Readonly<Partial<Record<RateLimitedRoute, number>>>;
  /**
   * How long WAF logs (blocked and counted requests) are kept.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the WAF log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** A JSON problem document (RFC 9457), as the handlers answer, for WAF's custom responses. */
function problemBody(type: string, title: string, status: number, detail: string): wafv2.CfnWebACL.CustomResponseBodyProperty {
  return { contentType: 'APPLICATION_JSON', content: JSON.stringify({ type: `https://gatehouse.dev/problems/${type}`, title, status, detail }) };
}

const NO_STORE = [{ name: 'cache-control', value: 'no-store' }];

/**
 * AWS WAF in front of the API stage: a body-size limit (evaluated first), per-IP rate limits by route group
 * (DEFAULT_ROUTE_RATE_LIMITS, and `requestsPerIpPer5Minutes` for the other routes), the Amazon IP reputation
 * list, the Common Rule Set (with {@link COMMON_RULE_SET_COUNTED} counted) and the Known Bad Inputs rules. Blocked and
 * counted requests are logged to an encrypted log group, with the Authorization, DPoP and Idempotency-Key headers and the
 * query string (review links carry their token in `?t=`) redacted; allowed requests are already in the API access log.
 *
 * Why the body limit is a WAF rule: API Gateway REST APIs accept up to 10 MB and have no smaller setting, and the
 * handlers only refuse a large body after Lambda has received it. WAF sees at most `maxBodyKiB` of a body, so the rule
 * compares against exactly that and treats a larger body as matching (oversize handling MATCH): a body is either fully
 * inspected by every rule or refused. At the 64 KiB default nothing the handlers accept is refused; a 16 KiB limit costs
 * nothing extra but refuses 16-64 KiB bodies at the edge.
 */
export class ApiFirewall extends Construct {
  /** The web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** Where WAF logs blocked and counted requests. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const maxBodyKiB = props.maxBodyKiB ?? HANDLER_BODY_LIMIT_KIB;
    if (!WAF_BODY_LIMITS_KIB.includes(maxBodyKiB))
      throw new Error(`ApiFirewall: maxBodyKiB must be one of ${WAF_BODY_LIMITS_KIB.join(', ')}, got ${maxBodyKiB}`);
    const maxBodyBytes = maxBodyKiB * 1024;
    const rateLimit = props.requestsPerIpPer5Minutes ?? 3000;
    checkRateLimit('requestsPerIpPer5Minutes', rateLimit);
    const routeLimits = { ...DEFAULT_ROUTE_RATE_LIMITS, ...props.routeRequestsPerIpPer5Minutes };
    for (const [route, limit] of Object.entries(routeLimits)) checkRateLimit(`routeRequestsPerIpPer5Minutes.${route}`, limit);

    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName,
      sampledRequestsEnabled: true,
    });
    const rateRule = (name: string, priority: number, limit: number, scopeDownStatement: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: 'rate-limited', responseHeaders: NO_STORE } } },
      statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP', evaluationWindowSec: 300, scopeDownStatement } },
      visibilityConfig: visibility(name),
    });
    const managed = (priority: number, name: string, counted: readonly string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(counted.length ? { ruleActionOverrides: counted.map((rule) => ({ name: rule, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(name),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      description: 'Gatehouse API: body size, per-route per-IP rates, IP reputation, common and known-bad-input rules',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('GatehouseApi'),
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: `KB_${maxBodyKiB}` } } },
      customResponseBodies: {
        'payload-too-large': problemBody('payload-too-large', 'payload too large', 413, `The request body exceeds ${maxBodyBytes} bytes.`),
        'rate-limited': problemBody('rate-limited', 'Too many requests', 429, 'Too many requests from this address; slow down and retry later.'),
      },
      rules: [
        {
          name: 'BodySizeLimit',
          priority: 0,
          action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: 'payload-too-large', responseHeaders: NO_STORE } } },
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility('BodySizeLimit'),
        },
        // One rate-based rule per route group, each counting only its own requests (scope-down), then one for the rest.
        ...(Object.keys(ROUTE_MATCHES) as RateLimitedRoute[]).map((route, i) => rateRule(RULE_NAMES[route], 1 + i, routeLimits[route], routeMatch(route))),
        rateRule('RateLimitPerIp', 4, rateLimit, {
          notStatement: { statement: { orStatement: { statements: (Object.keys(ROUTE_MATCHES) as RateLimitedRoute[]).map(routeMatch) } } },
        }),
        managed(5, 'AWSManagedRulesAmazonIpReputationList'),
        managed(6, 'AWSManagedRulesCommonRuleSet', Object.keys(COMMON_RULE_SET_COUNTED)),
        managed(7, 'AWSManagedRulesKnownBadInputsRuleSet'),
      ],
    });

    new wafv2.CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });

    // WAF delivers only to log groups named aws-waf-logs-*, given by ARN without the `:*` suffix. The group outlives the
    // stack, so its name carries the deployment's suffix: a later deployment of the same stack name creates its own.
    const logGroupName = deploymentName(this, 'api', { prefix: 'aws-waf-logs-', maxLength: 512 });
    this.logGroup = encryptedLogGroup(this, 'Logs', {
      logGroupName,
      encryptionKey: props.logEncryptionKey,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      ],
      // Idempotency-Key is a credential too: it decrypts the sealed registration response stored under it.
      redactedFields: [
        { singleHeader: { Name: 'authorization' } },
        { singleHeader: { Name: 'dpop' } },
        { singleHeader: { Name: 'idempotency-key' } },
        { queryString: {} },
      ],
      // An untyped (JSON) property in the L1, so CloudFormation's own casing.
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: ['BLOCK', 'COUNT', 'EXCLUDED_AS_COUNT'].map((action) => ({ ActionCondition: { Action: action } })),
          },
        ],
      },
    });
    logging.node.addDependency(this.logGroup);
  }
}

/** The statement matching a route group's requests by URI path. */
function routeMatch(route: RateLimitedRoute): wafv2.CfnWebACL.StatementProperty {
  const { searchString, positionalConstraint } = ROUTE_MATCHES[route];
  return {
    byteMatchStatement: { fieldToMatch: { uriPath: {} }, positionalConstraint, searchString, textTransformations: [{ priority: 0, type: 'LOWERCASE' }] },
  };
}

/** AWS WAF rate-based rules take 10 to 2,000,000,000 requests per window. */
function checkRateLimit(name: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 10 || limit > 2_000_000_000)
    throw new Error(`ApiFirewall: ${name} must be a whole number from 10 to 2000000000, got ${limit}`);
}
