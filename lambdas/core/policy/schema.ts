import * as z from 'zod';
import { AuthMethodSchema } from './level-schemas.js';
import { AUTH_METHOD_STRENGTH, RISK_LEVELS, TIERS } from './levels.js';

export type { AuthMethod, RiskLevel, Tier } from './levels.js';

export const RiskLevelSchema = z.enum(RISK_LEVELS);

/** What a high-risk scope does; each category is a distinct reason a human must look at the request. */
export const ScopeCategorySchema = z.enum(['reference_data', 'read', 'account_mutation', 'payment_initiation', 'regulated_customer_data']);
export type ScopeCategory = z.infer<typeof ScopeCategorySchema>;

const nameKey = z.string().regex(/^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)?$/, 'lower-case name, optionally resource:action');

export const ScopeDefinitionSchema = z.strictObject({
  description: z.string().min(1),
  risk: RiskLevelSchema,
  dataClass: z.string().min(1),
  access: z.enum(['read', 'write', 'payment']),
  category: ScopeCategorySchema,
});

export const DataClassDefinitionSchema = z.strictObject({
  description: z.string().min(1),
  risk: RiskLevelSchema,
});

export const RiskRequirementsSchema = z.strictObject({
  /** Distinct human approvals needed before credentials are issued (0 = automatic). */
  approvals: z.number().int().min(0).max(2),
  authMethods: z.array(AuthMethodSchema).min(1),
  senderConstraint: z.enum(['none', 'dpop']),
  accessTokenTtlSeconds: z.number().int().min(60).max(86_400),
  maxGrantDays: z.number().int().min(1).max(1_095),
  dormancyDays: z.number().int().min(1).max(365),
  secretRotationDays: z.number().int().min(1).max(365),
  /** How long a rotated-out client secret keeps working, so consumers can fetch the new one without breaking. */
  secretGraceDays: z.number().int().min(0).max(30),
  maxExceptionDays: z.number().int().min(0).max(365),
  // 20 days at most: beyond that a request is stale, and local mode's timers (2^31 ms) would overflow.
  reviewSlaHours: z.number().int().min(1).max(480),
});
export type RiskRequirements = z.infer<typeof RiskRequirementsSchema>;

// At least a week, so the grace period and the reminders fit; at most three years, the longest grant.
const recertificationPeriod = z.number().int().min(7).max(1_095);

export const TierDefinitionSchema = z.strictObject({
  description: z.string().min(1),
  maxRisk: RiskLevelSchema,
  scopes: z.array(z.string()).min(1),
  dataClasses: z.array(z.string()).min(1),
  authMethods: z.array(AuthMethodSchema).min(1),
  /** Partner and internal consumers carry the commercial side's signed sign-off. */
  softwareStatement: z.enum(['required', 'optional']),
});

export const PolicyDocumentSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/),
    description: z.string().min(1),
    minPurposeLength: z.number().int().min(1).max(500),
    dataClasses: z.record(nameKey, DataClassDefinitionSchema),
    scopes: z.record(nameKey, ScopeDefinitionSchema),
    tiers: z.strictObject({ public: TierDefinitionSchema, partner: TierDefinitionSchema, internal: TierDefinitionSchema }),
    risks: z.strictObject({ low: RiskRequirementsSchema, medium: RiskRequirementsSchema, high: RiskRequirementsSchema }),
    /** How clients authenticating with private_key_jwt sign their assertions (RFC 7523). */
    clientAssertions: z.strictObject({
      /**
       * Longest lifetime (`exp` - `iat`, or `exp` - now without `iat`) of a client assertion, in seconds. Short lifetimes
       * bound how long a leaked assertion can be replayed before its `jti` is claimed; an hour is the most allowed, for
       * client libraries that cannot sign shorter ones.
       */
      maxLifetimeSeconds: z.number().int().min(30).max(3600),
      /**
       * How long a key set fetched from a client's `jwks_uri` is trusted before it is fetched again, in seconds: a key the
       * client withdraws stops working within it. At most 20 minutes (UAE Open Finance's bound). @default 600
       */
      jwksUriMaxAgeSeconds: z.number().int().min(60).max(1200).optional(),
      /**
       * Hours a key removed by an RFC 7592 update stays accepted, so a partner can deploy the new key before the old one
       * stops working (0: removed keys stop at once). @default 24
       */
      keyRolloverGraceHours: z.number().int().min(0).max(720).optional(),
    }),
    /** DPoP (RFC 9449) at the token endpoint. */
    dpop: z
      .strictObject({
        /**
         * Require a server nonce in every DPoP proof (RFC 9449 section 8): a proof then cannot be made ahead of time. The
         * client gets `use_dpop_nonce` with a `DPoP-Nonce` header and retries; each token response carries the next one.
         */
        serverNonce: z.boolean(),
        /** How long a nonce window lasts; a nonce is accepted in its window and the next. */
        nonceLifetimeSeconds: z.number().int().min(30).max(3600),
      })
      .optional(),
    /** Limits on self-service registration. */
    registrationQuotas: z.strictObject({
      /**
       * Registrations without a software statement accepted per caller address (an IPv6 /64) and UTC day. Each one costs
       * the bank a stored secret and emails to addresses nobody has verified.
       */
      anonymousPerIpPerDay: z.number().int().min(1).max(100_000),
    }),
    /** What software statements (RFC 7591 section 2.3, the commercial side's signed sign-off) must be. */
    softwareStatements: z.strictObject({
      /** Longest span from `iat` to `exp`; a statement without `exp` is refused. */
      maxLifetimeDays: z.number().int().min(1).max(400),
      /**
       * Most live (pending, active or suspended) consumers one software_id may have, counting those whose statement
       * vouched for it; without it, no limit.
       */
      maxConsumersPerSoftwareId: z.number().int().min(1).max(10_000).optional(),
    }),
    /** How the lifecycle sweep treats consumers. */
    lifecycle: z.strictObject({
      /** Days before a dormancy suspension or a grant's end that the consumer's contacts are warned (0: no warning). */
      warningDays: z.number().int().min(0).max(60),
      /**
       * Days a consumer that a new policy version finds out of policy keeps working before it is suspended (0: at once),
       * so its owners can adapt or ask for an exception.
       */
      driftGraceDays: z.number().int().min(0).max(90),
      /**
       * Days between attestations of a consumer's access by its owner, per risk (periodic recertification, PCI DSS 4.0
       * 7.2.5.1, NIST CSF PR.AA-05): when due, its contacts get a signed, single-use attestation link.
       */
      recertificationDays: z
        .strictObject({ low: recertificationPeriod, medium: recertificationPeriod, high: recertificationPeriod })
        .default({ low: 365, medium: 180, high: 90 }),
      /** Days after the due date that an unattested consumer keeps working before it is suspended (`recertification_overdue`). */
      recertificationGraceDays: z.number().int().min(0).max(90).default(14),
    }),
  })
  .superRefine((doc, ctx) => {
    for (const [name, scope] of Object.entries(doc.scopes)) {
      if (!(scope.dataClass in doc.dataClasses)) {
        ctx.addIssue({ code: 'custom', path: ['scopes', name, 'dataClass'], message: `unknown data class "${scope.dataClass}"` });
      }
    }
    for (const tier of TIERS) {
      const def = doc.tiers[tier];
      def.scopes.forEach((s, i) => {
        if (!(s in doc.scopes)) ctx.addIssue({ code: 'custom', path: ['tiers', tier, 'scopes', i], message: `unknown scope "${s}"` });
      });
      def.dataClasses.forEach((d, i) => {
        if (!(d in doc.dataClasses)) ctx.addIssue({ code: 'custom', path: ['tiers', tier, 'dataClasses', i], message: `unknown data class "${d}"` });
      });
    }
    // The article's rule: higher risk never gets weaker controls than lower risk.
    const [low, medium, high] = RISK_LEVELS.map((r) => doc.risks[r]);
    const pairs: Array<[string, RiskRequirements, RiskRequirements]> = [
      ['low to medium', low!, medium!],
      ['medium to high', medium!, high!],
    ];
    for (const [label, lo, hi] of pairs) {
      if (hi.approvals < lo.approvals) ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: approvals must not decrease` });
      if (hi.accessTokenTtlSeconds > lo.accessTokenTtlSeconds)
        ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: access-token TTL must not grow` });
      if (hi.maxGrantDays > lo.maxGrantDays) ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: maximum grant must not grow` });
      if (hi.dormancyDays > lo.dormancyDays) ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: dormancy window must not grow` });
      if (hi.secretRotationDays > lo.secretRotationDays)
        ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: secret rotation period must not grow` });
      if (lo.senderConstraint === 'dpop' && hi.senderConstraint !== 'dpop')
        ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: sender constraint must not be dropped` });
      const weakest = (r: RiskRequirements) => Math.min(...r.authMethods.map((m) => AUTH_METHOD_STRENGTH[m]));
      if (weakest(hi) < weakest(lo)) ctx.addIssue({ code: 'custom', path: ['risks'], message: `${label}: allowed client authentication must not get weaker` });
    }
    const recert = doc.lifecycle.recertificationDays;
    if (recert.medium > recert.low || recert.high > recert.medium) {
      ctx.addIssue({ code: 'custom', path: ['lifecycle', 'recertificationDays'], message: 'higher risk must not be recertified less often' });
    }
    for (const risk of RISK_LEVELS) {
      if (doc.lifecycle.recertificationGraceDays >= recert[risk]) {
        ctx.addIssue({
          code: 'custom',
          path: ['lifecycle', 'recertificationGraceDays'],
          message: `the grace period must be shorter than the ${risk}-risk recertification period`,
        });
      }
    }
    for (const risk of RISK_LEVELS) {
      const r = doc.risks[risk];
      if (r.secretGraceDays >= r.secretRotationDays) {
        ctx.addIssue({ code: 'custom', path: ['risks', risk, 'secretGraceDays'], message: 'the grace window must be shorter than the rotation period' });
      }
    }
    // DESIGN: client secrets are for low-risk, self-service consumers only; reviewed consumers prove possession of a key.
    for (const risk of RISK_LEVELS) {
      const r = doc.risks[risk];
      if (r.approvals > 0 && r.authMethods.some((m) => m !== 'private_key_jwt')) {
        ctx.addIssue({ code: 'custom', path: ['risks', risk, 'authMethods'], message: 'a risk that needs review allows only private_key_jwt' });
      }
    }
    if (doc.risks.high.approvals < 1) {
      ctx.addIssue({ code: 'custom', path: ['risks', 'high', 'approvals'], message: 'high risk must need human review' });
    }
  });

export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
