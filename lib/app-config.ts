import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Duration, type StackProps } from 'aws-cdk-lib';
import type { JSONWebKeySet } from 'jose';
import * as z from 'zod';
import type { ReviewerGroups } from '../lambdas/core/config.js';
import { loadPolicyFile, type LoadedPolicy } from '../lambdas/core/policy/load.js';
import { hasPrivateMembers } from '../lambdas/core/util/jwk.js';
import type { GatehouseStackProps } from './gatehouse-stack.js';
import { LOG_RETENTION_DAYS, retentionFromDays } from './log-encryption-key.js';
import { DEFAULT_ROUTE_RATE_LIMITS, HANDLER_BODY_LIMIT_KIB, ROUTE_MATCHES, WAF_BODY_LIMITS_KIB, type WafBodyLimitKiB } from './api-firewall.js';
import { checkAboveOneIp, routeThrottles, type RouteThrottling } from './api-throttling.js';
import { FUNCTIONS } from '../lambdas/contracts/functions.js';
import { domainOf, identityCovers } from './mail-sender.js';
import { SWEEP_INTERVAL_MINUTES } from './lifecycle-sweep.js';
import { ROUTES } from '../lambdas/contracts/routes.js';

/** The operator table (`operators` context): each person's email and the IAM principals they sign in as. */
const OperatorTableSchema = z.array(
  z.strictObject({
    email: z.email(),
    principals: z.array(z.string().min(1)).min(1),
  }),
);
import { MAX_KEY_PUBLISH_DELAY, previousKeyOverlap } from './signing-key.js';

/**
 * Committed example of the commercial side's software-statement JWKS (one public EC P-256 key whose private half was
 * discarded). It verifies nothing real: production must pass `-c softwareStatementJwks=<path to the real public JWKS>`.
 */
export const EXAMPLE_SOFTWARE_STATEMENT_JWKS = 'config/software-statement.example.jwks.json';

/**
 * Placeholder reviewer groups (two addresses, because high risk needs two distinct approvers). They reach nobody real:
 * production must pass `-c reviewers=<JSON or path to a JSON file>` with the bank's reviewers.
 */
export const PLACEHOLDER_REVIEWERS: ReviewerGroups = { default: ['security-reviewers@bank.example', 'api-risk-officers@bank.example'] };

/** A configuration value the app cannot use; `cdk synth` fails with its message. */
export class AppConfigError extends Error {
  override readonly name = 'AppConfigError';
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(issues.length ? `${message}:\n  - ${issues.join('\n  - ')}` : message, options);
    this.issues = issues;
  }
}

/** `-c key=` on the command line yields an empty string; treat it as not given. */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

/** `-c flag=true` arrives as a string; cdk.json gives a boolean. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], { error: 'must be true or false' });

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const httpsUrl = z
  .url()
  .refine((u) => u.startsWith('https://'), 'must be an https URL')
  .refine((u) => !u.endsWith('/'), 'must not end with a slash');

/** A stage name: the stack is `Gatehouse-<stage>`, which CloudFormation allows up to 128 characters. */
const STAGE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$/;

/** The stack name of a deployment without a stage (the one existing deployments have). */
export const DEFAULT_STACK_NAME = 'Gatehouse';

const SWEEP_INTERVAL_MESSAGE = `must be a whole number of minutes from ${SWEEP_INTERVAL_MINUTES.min} to ${SWEEP_INTERVAL_MINUTES.max}`;

/** CDK context the app reads (cdk.json `context` or `-c key=value`; command-line values arrive as strings). */
export const AppContextSchema = z
  .object({
    /**
     * The deployment's stage: the stack is `Gatehouse-<stage>`, and every name, metric namespace and secret prefix follows
     * the stack name, so stages share an account and region. Without it the stack is `Gatehouse`.
     */
    stage: optional(z.string().regex(STAGE, 'must be 1 to 64 letters, digits and inner hyphens')),
    /**
     * Whether this stack sets the account's API Gateway CloudWatch role (AWS::ApiGateway::Account, one per account and
     * region): true in one stack per account and region, false in the others or where the landing zone sets it.
     */
    manageApiGatewayAccount: optional(flag).default(true),
    policyFile: optional(z.string().min(1)).default('policy/policy.json'),
    tokenAudience: optional(z.url()).default('https://api.bank.example'),
    softwareStatementIssuer: optional(z.string().min(1)).default('bank-commercial'),
    softwareStatementJwks: optional(z.string().min(1)).default(EXAMPLE_SOFTWARE_STATEMENT_JWKS),
    issuer: optional(httpsUrl),
    /** Documentation for client developers, published as RFC 8414 `service_documentation`; none by default. */
    serviceDocumentation: optional(z.url().refine((u) => u.startsWith('https://'), 'must be an https URL')),
    consumerCacheMs: optional(z.coerce.number().int().min(0).max(300_000)).default(5000),
    apiThrottleRateLimit: optional(z.coerce.number().positive()).default(50),
    apiThrottleBurstLimit: optional(z.coerce.number().int().positive()).default(100),
    logRetentionDays: optional(
      z.coerce
        .number()
        .int()
        .refine((d) => LOG_RETENTION_DAYS.includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`),
    ).default(365),
    /** Reviewer groups: an object (cdk.json), a JSON string (`-c`), or a path to a JSON file; checked by loadReviewers. */
    reviewers: optional(
      z.union([z.string().min(1), z.record(z.string(), z.unknown())], {
        error: 'must be a JSON object of reviewer groups, or a path to a JSON file holding one',
      }),
    ).default(PLACEHOLDER_REVIEWERS as unknown as Record<string, unknown>),
    /**
     * Who the operators are: a JSON array (or a JSON string of one) of `{ "email", "principals": [IAM ARNs or aws:userid] }`,
     * so an operator's change requests are never theirs to review. IAM Identity Center sessions named by email need no entry.
     */
    operators: optional(
      z.preprocess((v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      }, OperatorTableSchema),
    ).default([]),
    mailFrom: optional(z.email('must be a plain email address (no display name)')).default('gatehouse@bank.example'),
    sesIdentity: optional(z.union([z.email(), z.string().regex(DOMAIN)], { error: 'must be a verified SES identity: an email address or a domain name' })),
    createSesIdentity: optional(flag).default(false),
    /** The SES configuration set the identity sends with (its default one); the send grants then cover it. */
    sesConfigurationSet: optional(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an SES configuration set name (letters, digits, _ and -)')),
    /** How often Secrets Manager rotates the token-signing key, in days. */
    signingKeyRotationDays: optional(z.coerce.number({ error: 'must be a whole number of days from 1 to 365' }).int().min(1).max(365)).default(30),
    /** How long a new signing key is published in JWKS before it signs, in seconds. */
    signingKeyPublishDelaySeconds: optional(
      z.coerce.number({ error: 'must be a whole number of seconds from 0 to 86400' }).int().min(0).max(MAX_KEY_PUBLISH_DELAY.toSeconds()),
    ).default(900),
    /** Whether the functions reserve concurrency (off by default: a new account's quota cannot hold it). */
    reservedConcurrency: optional(flag).default(false),
    /** Concurrent executions reserved for the token function, when reservedConcurrency is on. */
    tokenReservedConcurrency: optional(z.coerce.number({ error: 'must be a whole number from 1 to 1000' }).int().min(1).max(1000)).default(
      FUNCTIONS.token.reservedConcurrency ?? 100,
    ),
    /** Overrides of the route table's method throttling, by route selector (`issueToken`, `POST /oauth2/token`, `/admin/*`). */
    apiRouteThrottling: optional(
      z.preprocess(
        parseJsonString,
        z.record(z.string(), z.strictObject({ rateLimit: z.number().positive(), burstLimit: z.number().int().min(0) }), {
          error: 'must be an object of route selectors to { rateLimit, burstLimit }',
        }),
      ),
    ),
    /** The API's request body limit, enforced (and inspected up to) by AWS WAF, in KiB. */
    apiMaxBodyKiB: optional(
      z.coerce
        .number()
        .refine((kib): kib is WafBodyLimitKiB => (WAF_BODY_LIMITS_KIB as readonly number[]).includes(kib), `must be one of ${WAF_BODY_LIMITS_KIB.join(', ')}`),
    ).default(HANDLER_BODY_LIMIT_KIB),
    /** Per-IP WAF limits (requests in 5 minutes) of oauth2, register and reviews, merged over DEFAULT_ROUTE_RATE_LIMITS. */
    apiRouteRequestsPerIpPer5Minutes: optional(
      z.preprocess(
        parseJsonString,
        z.strictObject(
          { oauth2: z.number().int().min(10).optional(), register: z.number().int().min(10).optional(), reviews: z.number().int().min(10).optional() },
          { error: 'must be an object of oauth2, register and reviews to whole numbers of at least 10' },
        ),
      ),
    ),
    /** Requests one client IP may send in 5 minutes to the other routes before WAF answers 429. */
    apiRequestsPerIpPer5Minutes: optional(z.coerce.number({ error: 'must be a whole number of at least 10' }).int().min(10)).default(3000),
    /** Who the alarm topic emails: a list, or comma-separated. */
    alarmEmails: optional(
      z.preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((e) => e.trim())
                .filter(Boolean)
            : v,
        z.array(z.email(), { error: 'must be email addresses' }),
      ),
    ),
    /** Whether the stack backs the registry table up with AWS Backup. */
    registryBackup: optional(flag).default(true),
    /** How often the lifecycle sweep (dormancy, grant expiry, warnings) runs, in minutes. */
    sweepIntervalMinutes: optional(
      z.coerce
        .number({ error: SWEEP_INTERVAL_MESSAGE })
        .int(SWEEP_INTERVAL_MESSAGE)
        .min(SWEEP_INTERVAL_MINUTES.min, SWEEP_INTERVAL_MESSAGE)
        .max(SWEEP_INTERVAL_MINUTES.max, SWEEP_INTERVAL_MESSAGE),
    ).default(60),
  })
  .superRefine((context, ctx) => {
    if (context.sesIdentity !== undefined && !identityCovers(context.sesIdentity, context.mailFrom)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sesIdentity'],
        message: `${context.sesIdentity} cannot send as mailFrom ${context.mailFrom}: use the address itself or its (parent) domain`,
      });
    }
  });
export type AppContext = z.infer<typeof AppContextSchema>;

const reviewerList = z.array(z.email()).min(1, 'must list at least one address');

/** Reviewer email addresses by risk; `default` serves every risk without its own group (GATEHOUSE_REVIEWERS). */
export const ReviewerGroupsSchema = z.strictObject({
  default: reviewerList,
  low: reviewerList.optional(),
  medium: reviewerList.optional(),
  high: reviewerList.optional(),
});

/** The reviewer groups travel in every function's environment (4 KB in total, shared with the JWKS). */
const MAX_REVIEWERS_BYTES = 1024;

const PublicJwkSchema = z
  .looseObject({ kty: z.enum(['EC', 'RSA', 'OKP']), kid: z.string().min(1).optional(), alg: z.string().optional(), use: z.literal('sig').optional() })
  .refine((jwk) => !hasPrivateMembers(jwk), 'is a private key; the JWKS must contain public keys only');

const JwksSchema = z.object({ keys: z.array(PublicJwkSchema).min(1) });

/** Lambda allows 4 KB of environment per function; the JWKS shares it with the other settings. */
const MAX_JWKS_BYTES = 2048;

/** The stack settings derived from context, everything but the StackProps. */
export type GatehouseAppConfig = Omit<GatehouseStackProps, keyof StackProps>;

/**
 * Reads the app's context, loads and validates the policy (throws PolicyError) and the software-statement JWKS
 * (throws AppConfigError). Relative paths are resolved against `cwd` (the directory holding cdk.json).
 */
export function loadAppConfig(tryGetContext: (key: string) => unknown, cwd: string = process.cwd()): GatehouseAppConfig {
  const raw = Object.fromEntries(Object.keys(AppContextSchema.shape).map((key) => [key, tryGetContext(key)]));
  const parsed = AppContextSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppConfigError(
      'The Gatehouse CDK context is invalid',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const context = parsed.data;
  const policy = loadPolicyFile(resolve(cwd, context.policyFile));
  checkRotationTiming(context.signingKeyRotationDays, context.signingKeyPublishDelaySeconds, policy);
  const apiRouteThrottling = loadRouteThrottling(context.apiRouteThrottling);
  const apiRouteRequestsPerIpPer5Minutes = { ...DEFAULT_ROUTE_RATE_LIMITS, ...context.apiRouteRequestsPerIpPer5Minutes };
  // The anonymous groups: one IP within its WAF allowance must not exhaust a throttle everyone shares.
  const belowOneIp = checkAboveOneIp(
    ROUTES,
    routeThrottles(ROUTES, apiRouteThrottling),
    { rateLimit: context.apiThrottleRateLimit, burstLimit: context.apiThrottleBurstLimit },
    {
      register: { pathFragment: ROUTE_MATCHES.register.searchString, perIpPer5Minutes: apiRouteRequestsPerIpPer5Minutes.register },
      reviews: { pathFragment: ROUTE_MATCHES.reviews.searchString, perIpPer5Minutes: apiRouteRequestsPerIpPer5Minutes.reviews },
    },
  );
  if (belowOneIp.length > 0) throw new AppConfigError('The API throttling lets one caller exhaust an anonymous route', belowOneIp);
  return {
    policy,
    reviewers: loadReviewers(context.reviewers, policy, cwd),
    operators: context.operators,
    mailFrom: context.mailFrom,
    sesIdentity: context.sesIdentity ?? domainOf(context.mailFrom),
    createSesIdentity: context.createSesIdentity,
    ...(context.sesConfigurationSet ? { sesConfigurationSet: context.sesConfigurationSet } : {}),
    tokenAudience: context.tokenAudience,
    softwareStatementIssuer: context.softwareStatementIssuer,
    softwareStatementJwks: loadJwksFile(resolve(cwd, context.softwareStatementJwks)),
    issuer: context.issuer,
    ...(context.serviceDocumentation ? { serviceDocumentation: context.serviceDocumentation } : {}),
    consumerCacheMs: context.consumerCacheMs,
    apiThrottlingRateLimit: context.apiThrottleRateLimit,
    apiThrottlingBurstLimit: context.apiThrottleBurstLimit,
    logRetention: retentionFromDays(context.logRetentionDays),
    signingKeyRotation: Duration.days(context.signingKeyRotationDays),
    signingKeyPublishDelay: Duration.seconds(context.signingKeyPublishDelaySeconds),
    sweepInterval: Duration.minutes(context.sweepIntervalMinutes),
    reservedConcurrency: context.reservedConcurrency,
    tokenReservedConcurrency: context.tokenReservedConcurrency,
    apiRouteThrottling,
    apiMaxBodyKiB: context.apiMaxBodyKiB,
    apiRequestsPerIpPer5Minutes: context.apiRequestsPerIpPer5Minutes,
    apiRouteRequestsPerIpPer5Minutes,
    alarmEmails: context.alarmEmails,
    registryBackup: context.registryBackup,
    apiCloudWatchRole: context.manageApiGatewayAccount,
  };
}

/** The stack name the context asks for: `Gatehouse-<stage>`, or `Gatehouse` without a stage. Throws AppConfigError. */
export function loadStackName(tryGetContext: (key: string) => unknown): string {
  const parsed = AppContextSchema.shape.stage.safeParse(tryGetContext('stage'));
  if (!parsed.success)
    throw new AppConfigError(
      'The Gatehouse CDK context is invalid',
      parsed.error.issues.map((i) => `stage: ${i.message}`),
    );
  return stackNameOf(parsed.data);
}

/** `Gatehouse-<stage>`, or `Gatehouse` without a stage. */
export function stackNameOf(stage: string | undefined): string {
  return stage === undefined ? DEFAULT_STACK_NAME : `${DEFAULT_STACK_NAME}-${stage}`;
}

/** `-c key={...}` arrives as a string; cdk.json gives an object. */
function parseJsonString(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The context's throttling overrides, checked against the route table. */
function loadRouteThrottling(overrides: RouteThrottling = {}): RouteThrottling {
  try {
    routeThrottles(ROUTES, overrides);
  } catch (cause) {
    throw new AppConfigError('The apiRouteThrottling context value is invalid', [(cause as Error).message], { cause });
  }
  return overrides;
}

/**
 * Validates the `reviewers` context value (an object, a JSON string, or a path to a JSON file, resolved against `cwd`) and
 * checks it against the policy: every risk that needs N approvals must have N distinct reviewers in its group, because
 * nobody approves the same request twice. Throws AppConfigError naming each problem.
 */
export function loadReviewers(value: string | Readonly<Record<string, unknown>>, policy: LoadedPolicy, cwd: string = process.cwd()): ReviewerGroups {
  let raw: unknown = value;
  let source = 'The reviewers context value';
  if (typeof value === 'string') {
    let text = value;
    if (!value.trimStart().startsWith('{')) {
      const path = resolve(cwd, value);
      source = `The reviewers file ${path}`;
      try {
        text = readFileSync(path, 'utf8');
      } catch (cause) {
        throw new AppConfigError(
          `Cannot read the reviewers file ${path} (reviewers is a JSON object or a path to a JSON file): ${(cause as Error).message}`,
          [],
          { cause },
        );
      }
    }
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new AppConfigError(`${source} is not valid JSON: ${(cause as Error).message}`, [], { cause });
    }
  }
  const parsed = ReviewerGroupsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppConfigError(
      `${source} is invalid`,
      parsed.error.issues.map((i) => `reviewers${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`),
    );
  }
  const groups: ReviewerGroups = parsed.data;
  const issues: string[] = [];
  for (const [risk, requirements] of Object.entries(policy.document.risks)) {
    const key = risk in groups ? (risk as keyof ReviewerGroups) : 'default';
    const distinct = new Set((groups[key] ?? []).map((e) => e.trim().toLowerCase())).size;
    if (distinct < requirements.approvals) {
      issues.push(
        `reviewers.${key}: ${risk} risk needs ${requirements.approvals} approvals from distinct reviewers, but the group lists ${distinct} distinct address${distinct === 1 ? '' : 'es'}`,
      );
    }
  }
  if (issues.length) throw new AppConfigError(`${source} does not satisfy the policy ${policy.version}`, issues);
  const size = Buffer.byteLength(JSON.stringify(groups));
  if (size > MAX_REVIEWERS_BYTES) {
    throw new AppConfigError(
      `${source} is ${size} bytes; it travels in every function's environment (4 KB in total), so keep it under ${MAX_REVIEWERS_BYTES} bytes (use distribution lists)`,
    );
  }
  return groups;
}

/**
 * The next scheduled rotation must come after the new key has started signing (the publish delay) and the previous key's
 * tokens have expired (the policy's overlap): the rotation function refuses to rotate sooner, so such a schedule would
 * only ever raise the rotation alarm.
 */
function checkRotationTiming(rotationDays: number, publishDelaySeconds: number, policy: LoadedPolicy): void {
  const overlapSeconds = previousKeyOverlap(policy).toSeconds();
  const rotationSeconds = rotationDays * 86_400;
  if (publishDelaySeconds + overlapSeconds >= rotationSeconds) {
    throw new AppConfigError(`The signing-key rotation settings do not fit the policy ${policy.version}`, [
      `signingKeyRotationDays: ${rotationDays} day${rotationDays === 1 ? '' : 's'} (${rotationSeconds} s) must exceed signingKeyPublishDelaySeconds (${publishDelaySeconds} s) plus the previous-key overlap (${overlapSeconds} s: the policy's longest access-token lifetime + 5 min), or every scheduled rotation is refused as too soon`,
    ]);
  }
}

/** Reads a JWKS of public signing keys. */
export function loadJwksFile(path: string): JSONWebKeySet {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new AppConfigError(`Cannot read the software-statement JWKS ${path}: ${(cause as Error).message}`, [], { cause });
  }
  const parsed = JwksSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AppConfigError(
      `The software-statement JWKS ${path} is invalid`,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const size = Buffer.byteLength(JSON.stringify(parsed.data));
  if (size > MAX_JWKS_BYTES) {
    throw new AppConfigError(
      `The software-statement JWKS ${path} is ${size} bytes; it travels in every function's environment (4 KB in total), so keep it under ${MAX_JWKS_BYTES} bytes (public signing keys only, no certificates)`,
    );
  }
  return parsed.data as JSONWebKeySet;
}
