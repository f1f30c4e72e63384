import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiFirewall, COMMON_RULE_SET_COUNTED, DEFAULT_ROUTE_RATE_LIMITS, type ApiFirewallProps, type WafBodyLimitKiB } from '../../lib/api-firewall.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';
import { arnOf, logicalId, testApp } from './stack-fixture.js';

type Rule = { Name: string; Priority: number; Action?: Record<string, unknown>; OverrideAction?: unknown; Statement: Record<string, Record<string, unknown>> };

/** An ApiFirewall in front of a one-method stand-in API. */
function firewallAlone(props: Partial<ApiFirewallProps> = {}): { stack: Stack; firewall: ApiFirewall; key: kms.Key; api: apigateway.RestApi } {
  const stack = new Stack(testApp(), 'Firewalled');
  const api = new apigateway.RestApi(stack, 'Api', { cloudWatchRole: false, deployOptions: { stageName: 'v1' } });
  api.root.addMethod('GET', new apigateway.MockIntegration());
  const key = new kms.Key(stack, 'Logs');
  const firewall = new ApiFirewall(stack, 'Firewall', { stage: api.deploymentStage, logEncryptionKey: key, ...props });
  return { stack, firewall, key, api };
}

describe('ApiFirewall', () => {
  let stack: Stack;
  let firewall: ApiFirewall;
  let key: kms.Key;
  let api: apigateway.RestApi;
  let template: Template;
  let rules: Rule[];

  beforeAll(() => {
    ({ stack, firewall, key, api } = firewallAlone());
    template = Template.fromStack(stack);
    rules = (template.toJSON().Resources[logicalId(firewall.webAcl)].Properties.Rules as Rule[]).sort((a, b) => a.Priority - b.Priority);
  });

  it('protects the stage with a regional web ACL that allows what no rule blocks', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: logicalId(api) }, '/stages/', { Ref: logicalId(api.deploymentStage) }])] },
      WebACLArn: { 'Fn::GetAtt': [logicalId(firewall.webAcl), 'Arn'] },
    });
  });

  it('refuses bodies over 64 KiB first, inspecting 64 KiB so that a larger body matches instead of escaping inspection', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', { AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_64' } } } });
    expect(rules[0]).toMatchObject({
      Name: 'BodySizeLimit',
      Priority: 0,
      Action: { Block: { CustomResponse: { ResponseCode: 413, CustomResponseBodyKey: 'payload-too-large' } } },
      Statement: { SizeConstraintStatement: { FieldToMatch: { Body: { OversizeHandling: 'MATCH' } }, ComparisonOperator: 'GT', Size: 65_536 } },
    });
  });

  it('answers refusals with problem documents like the handlers, never cached', () => {
    const bodies = template.toJSON().Resources[logicalId(firewall.webAcl)].Properties.CustomResponseBodies as Record<
      string,
      { ContentType: string; Content: string }
    >;
    expect(JSON.parse(bodies['payload-too-large']!.Content)).toEqual({
      type: 'https://gatehouse.dev/problems/payload-too-large',
      title: 'payload too large',
      status: 413,
      detail: 'The request body exceeds 65536 bytes.',
    });
    expect(JSON.parse(bodies['rate-limited']!.Content)).toMatchObject({ status: 429 });
    for (const rule of rules.filter((r) => r.Action)) {
      expect(rule.Action).toMatchObject({ Block: { CustomResponse: { ResponseHeaders: [{ Name: 'cache-control', Value: 'no-store' }] } } });
    }
  });

  it("limits each client IP per route group: the OAuth routes far above one partner's designed load, registration and reviews tightly, the rest at 3000 in 5 minutes", () => {
    const match = (searchString: string) => ({
      ByteMatchStatement: {
        FieldToMatch: { UriPath: {} },
        PositionalConstraint: 'CONTAINS',
        SearchString: searchString,
        TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
      },
    });
    const rate = (name: string, limit: number, scopeDown: unknown) => ({
      Name: name,
      Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'rate-limited' } } },
      Statement: { RateBasedStatement: { Limit: limit, AggregateKeyType: 'IP', EvaluationWindowSec: 300, ScopeDownStatement: scopeDown } },
    });
    expect(rules.slice(1, 5)).toMatchObject([
      rate('RateLimitOAuth2PerIp', 300_000, match('/oauth2/')),
      rate('RateLimitRegisterPerIp', 100, match('/register')),
      rate('RateLimitReviewsPerIp', 300, match('/reviews/')),
      rate('RateLimitPerIp', 3000, {
        NotStatement: { Statement: { OrStatement: { Statements: [match('/oauth2/'), match('/register'), match('/reviews/')] } } },
      }),
    ]);
    // 1,000 token requests per second from one address stay under the OAuth limit.
    expect(DEFAULT_ROUTE_RATE_LIMITS.oauth2).toBeGreaterThanOrEqual(1000 * 300);
    expect(rules.map((r) => r.Priority)).toEqual(rules.map((_, i) => i));
  });

  it('applies the IP reputation, common and known-bad-inputs rule groups, counting only the two common rules that break OAuth clients', () => {
    expect(rules.slice(5).map((r) => r.Name)).toEqual([
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
    ]);
    for (const rule of rules.slice(5)) expect(rule.OverrideAction).toEqual({ None: {} });
    expect(rules[6]!.Statement.ManagedRuleGroupStatement!.RuleActionOverrides).toEqual(
      Object.keys(COMMON_RULE_SET_COUNTED).map((name) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    expect(Object.keys(COMMON_RULE_SET_COUNTED).sort()).toEqual(['NoUserAgent_HEADER', 'SizeRestrictions_BODY']);
  });

  it('logs blocked and counted requests to an encrypted aws-waf-logs-* group named per deployment, redacting credentials, the Idempotency-Key and the query string', () => {
    expect(template.toJSON().Resources[logicalId(firewall.logGroup)].Properties).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['aws-waf-logs-Firewalled-api-', DEPLOYMENT_SUFFIX]] },
      KmsKeyId: arnOf(key),
      RetentionInDays: 365,
    });
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      ResourceArn: { 'Fn::GetAtt': [logicalId(firewall.webAcl), 'Arn'] },
      LogDestinationConfigs: [{ 'Fn::Join': ['', Match.arrayWith([':log-group:aws-waf-logs-Firewalled-api-', DEPLOYMENT_SUFFIX])] }],
      RedactedFields: [
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'dpop' } },
        { SingleHeader: { Name: 'idempotency-key' } },
        { QueryString: {} },
      ],
      LoggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: ['BLOCK', 'COUNT', 'EXCLUDED_AS_COUNT'].map((Action) => ({ ActionCondition: { Action } })),
          },
        ],
      },
    });
  });

  it('leaves no WAF finding in the AwsSolutions, NIST 800-53 R5 or PCI DSS 3.2.1 packs', () => {
    for (const pack of [new AwsSolutionsChecks(stack), new NIST80053R5Checks(stack), new PCIDSS321Checks(stack)]) {
      const findings = pack.validateScope(firewall).violations.map((v) => v.ruleName);
      expect(findings).toEqual([]);
    }
    const stage = new NIST80053R5Checks(stack).validateScope(api.deploymentStage).violations.map((v) => v.ruleName);
    expect(stage).not.toContain('NIST.800.53.R5-APIGWAssociatedWithWAF');
  });

  it('inspects and limits a smaller body when asked, and takes the per-IP limits', () => {
    const { stack: small } = firewallAlone({ maxBodyKiB: 16, requestsPerIpPer5Minutes: 100, routeRequestsPerIpPer5Minutes: { oauth2: 50_000 } });
    const acl = Template.fromStack(small);
    acl.hasResourceProperties('AWS::WAFv2::WebACL', {
      AssociationConfig: { RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: 'KB_16' } } },
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'BodySizeLimit', Statement: { SizeConstraintStatement: Match.objectLike({ Size: 16_384 }) } }),
        Match.objectLike({ Name: 'RateLimitOAuth2PerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: 50_000 }) } }),
        Match.objectLike({ Name: 'RateLimitRegisterPerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: 100 }) } }),
        Match.objectLike({ Name: 'RateLimitPerIp', Statement: { RateBasedStatement: Match.objectLike({ Limit: 100 }) } }),
      ]),
    });
  });

  it.each([
    ['a body limit WAF cannot inspect', { maxBodyKiB: 20 as WafBodyLimitKiB }, /maxBodyKiB must be one of 16, 32, 48, 64, got 20/],
    ['a per-IP limit under 10', { requestsPerIpPer5Minutes: 9 }, /requestsPerIpPer5Minutes must be a whole number from 10/],
    ['a route limit under 10', { routeRequestsPerIpPer5Minutes: { register: 5 } }, /routeRequestsPerIpPer5Minutes\.register must be a whole number from 10/],
  ])('refuses %s', (_what, props, message) => {
    expect(() => firewallAlone(props)).toThrow(message);
  });
});
