import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, type AccessRequest, type Outcome } from '../../../../lambdas/core/policy/evaluate.js';
import type { LoadedPolicy } from '../../../../lambdas/core/policy/load.js';
import { AUTO_REASON_CODES, DENY_REASON_CODES, REVIEW_REASON_CODES, type ReasonCode } from '../../../../lambdas/core/policy/reasons.js';
import { AUTH_METHODS, RISK_LEVELS, type AuthMethod, type RiskLevel, type Tier } from '../../../../lambdas/core/policy/levels.js';
import { DAY_MS, NOW, defaultPolicy, policyWith, request } from './fixtures.js';

const codesOf = (req: AccessRequest, policy: LoadedPolicy = defaultPolicy): ReasonCode[] => evaluate(policy, req, NOW).reasons.map((r) => r.code);

const doc = defaultPolicy.document;
const ALL_SCOPES = Object.keys(doc.scopes);
const ALL_DATA_CLASSES = Object.keys(doc.dataClasses);
const HIGH_SCOPES = ALL_SCOPES.filter((s) => doc.scopes[s]!.risk === 'high');
const dataClassesFor = (scopes: readonly string[]): string[] => [...new Set(scopes.map((s) => doc.scopes[s]!.dataClass))];

describe('evaluate', () => {
  describe('tier × risk matrix', () => {
    /** One representative valid request per risk level. */
    const SCENARIOS: Record<RiskLevel, { scopes: string[]; dataClasses: string[]; authMethod: AuthMethod }> = {
      low: { scopes: ['reference-data:read'], dataClasses: ['public'], authMethod: 'client_secret_basic' },
      medium: { scopes: ['accounts:read'], dataClasses: ['confidential'], authMethod: 'private_key_jwt' },
      high: { scopes: ['payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt' },
    };

    interface MatrixRow {
      tier: Tier;
      risk: RiskLevel;
      outcome: Outcome;
      approvals: number;
      ttl: number;
      senderConstraint: 'none' | 'dpop';
      codes: ReasonCode[];
    }

    const DENIED_FOR_PUBLIC: ReasonCode[] = ['risk_exceeds_tier_maximum', 'scope_not_allowed_for_tier'];

    const MATRIX: MatrixRow[] = [
      { tier: 'public', risk: 'low', outcome: 'auto', approvals: 0, ttl: 3600, senderConstraint: 'none', codes: ['low_risk_self_service'] },
      { tier: 'public', risk: 'medium', outcome: 'deny', approvals: 1, ttl: 900, senderConstraint: 'none', codes: DENIED_FOR_PUBLIC },
      { tier: 'public', risk: 'high', outcome: 'deny', approvals: 2, ttl: 300, senderConstraint: 'dpop', codes: DENIED_FOR_PUBLIC },
      { tier: 'partner', risk: 'low', outcome: 'auto', approvals: 0, ttl: 3600, senderConstraint: 'none', codes: ['low_risk_self_service'] },
      { tier: 'partner', risk: 'medium', outcome: 'review', approvals: 1, ttl: 900, senderConstraint: 'none', codes: ['risk_requires_review'] },
      { tier: 'partner', risk: 'high', outcome: 'review', approvals: 2, ttl: 300, senderConstraint: 'dpop', codes: ['risk_requires_review'] },
      { tier: 'internal', risk: 'low', outcome: 'auto', approvals: 0, ttl: 3600, senderConstraint: 'none', codes: ['low_risk_self_service'] },
      { tier: 'internal', risk: 'medium', outcome: 'review', approvals: 1, ttl: 900, senderConstraint: 'none', codes: ['risk_requires_review'] },
      { tier: 'internal', risk: 'high', outcome: 'review', approvals: 2, ttl: 300, senderConstraint: 'dpop', codes: ['risk_requires_review'] },
    ];

    it('covers every tier and every risk level', () => {
      const covered = new Set(MATRIX.map((r) => `${r.tier}/${r.risk}`));
      expect(covered.size).toBe(MATRIX.length);
      expect(MATRIX).toHaveLength(Object.keys(doc.tiers).length * RISK_LEVELS.length);
    });

    it.each(MATRIX)(
      '$tier tier asking $risk risk gets $outcome (approvals $approvals, TTL $ttl, $senderConstraint)',
      ({ tier, risk, outcome, approvals, ttl, senderConstraint, codes }) => {
        const scenario = SCENARIOS[risk];
        const decision = evaluate(defaultPolicy, request({ tier, ...scenario, softwareStatement: tier === 'public' ? undefined : {} }), NOW);

        expect(decision.outcome).toBe(outcome);
        expect(decision.risk).toBe(risk);
        expect(decision.requirements.approvals).toBe(approvals);
        expect(decision.requirements.accessTokenTtlSeconds).toBe(ttl);
        expect(decision.requirements.senderConstraint).toBe(senderConstraint);
        expect(decision.requirements).toStrictEqual(doc.risks[risk]);
        expect(decision.policyVersion).toBe(defaultPolicy.version);
        const got = decision.reasons.map((r) => r.code);
        expect(got).toEqual(expect.arrayContaining(codes));
        if (outcome !== 'deny') expect(got[0]).toBe(codes[0]);
      },
    );
  });

  describe('reason codes', () => {
    // Variants of the default policy isolate codes the default cannot raise on their own.
    const partnerWithoutAccountsWrite = policyWith((d) => {
      d.tiers.partner.scopes = d.tiers.partner.scopes.filter((s) => s !== 'accounts:write');
    });
    const partnerCappedAtMedium = policyWith((d) => {
      d.tiers.partner.maxRisk = 'medium';
    });
    const partnerWithoutRegulatedData = policyWith((d) => {
      d.tiers.partner.dataClasses = d.tiers.partner.dataClasses.filter((c) => c !== 'regulated-customer');
    });
    const partnerKeyJwtOnly = policyWith((d) => {
      d.tiers.partner.authMethods = ['private_key_jwt'];
    });

    interface CodeRow {
      code: ReasonCode;
      outcome: Outcome;
      request: AccessRequest;
      /** The exact reason codes, in order: each row triggers its code and nothing else it can avoid. */
      codes: ReasonCode[];
      subject?: string;
      policy?: LoadedPolicy;
    }

    const medium = { scopes: ['accounts:read'], dataClasses: ['confidential'], authMethod: 'private_key_jwt' } as const;

    const ROWS: CodeRow[] = [
      { code: 'scope_missing', outcome: 'deny', request: request({ scopes: [] }), codes: ['scope_missing'] },
      {
        code: 'scope_unknown',
        outcome: 'deny',
        request: request({ scopes: ['reference-data:read', 'nope:read'] }),
        codes: ['scope_unknown'],
        subject: 'nope:read',
      },
      {
        code: 'scope_not_allowed_for_tier',
        outcome: 'deny',
        policy: partnerWithoutAccountsWrite,
        request: request({ scopes: ['accounts:write'], dataClasses: ['confidential'], authMethod: 'private_key_jwt' }),
        codes: ['scope_not_allowed_for_tier'],
        subject: 'accounts:write',
      },
      {
        code: 'risk_exceeds_tier_maximum',
        outcome: 'deny',
        policy: partnerCappedAtMedium,
        request: request({ scopes: ['customers:read'], dataClasses: ['regulated-customer'], authMethod: 'private_key_jwt' }),
        codes: ['risk_exceeds_tier_maximum'],
        subject: 'high',
      },
      {
        code: 'data_class_unknown',
        outcome: 'deny',
        request: request({ dataClasses: ['public', 'secret-sauce'] }),
        codes: ['data_class_unknown'],
        subject: 'secret-sauce',
      },
      {
        code: 'data_class_not_allowed_for_tier',
        outcome: 'deny',
        policy: partnerWithoutRegulatedData,
        request: request({ dataClasses: ['public', 'regulated-customer'], authMethod: 'private_key_jwt' }),
        codes: ['data_class_not_allowed_for_tier'],
        subject: 'regulated-customer',
      },
      {
        code: 'data_class_undeclared',
        outcome: 'deny',
        request: request({ ...medium, dataClasses: ['public'] }),
        codes: ['data_class_undeclared'],
        subject: 'confidential',
      },
      { code: 'purpose_missing', outcome: 'deny', request: request({ purpose: '   too short   ' }), codes: ['purpose_missing'] },
      { code: 'expiry_missing', outcome: 'deny', request: request({ expiresAt: undefined }), codes: ['expiry_missing'] },
      {
        code: 'expiry_in_past',
        outcome: 'deny',
        request: request({ expiresAt: new Date(NOW.getTime() - DAY_MS) }),
        codes: ['expiry_in_past'],
      },
      {
        code: 'expiry_exceeds_maximum',
        outcome: 'deny',
        request: request({ expiresAt: new Date(NOW.getTime() + 366 * DAY_MS) }),
        codes: ['expiry_exceeds_maximum'],
        subject: new Date(NOW.getTime() + 365 * DAY_MS).toISOString(),
      },
      {
        code: 'auth_method_too_weak',
        outcome: 'deny',
        request: request({ ...medium, authMethod: 'client_secret_post' }),
        codes: ['auth_method_too_weak'],
        subject: 'client_secret_post',
      },
      {
        code: 'auth_method_not_allowed_for_tier',
        outcome: 'deny',
        policy: partnerKeyJwtOnly,
        request: request({ authMethod: 'client_secret_basic' }),
        codes: ['auth_method_not_allowed_for_tier'],
        subject: 'client_secret_basic',
      },
      {
        code: 'software_statement_required',
        outcome: 'deny',
        request: request({ softwareStatement: undefined }),
        codes: ['software_statement_required'],
      },
      {
        code: 'software_statement_scope_exceeded',
        outcome: 'deny',
        request: request({ softwareStatement: { scopes: ['accounts:read'] } }),
        codes: ['software_statement_scope_exceeded'],
        subject: 'reference-data:read',
      },
      { code: 'contacts_missing', outcome: 'deny', request: request({ contacts: [] }), codes: ['contacts_missing'] },
      {
        code: 'risk_requires_review',
        outcome: 'review',
        request: request(medium),
        codes: ['risk_requires_review'],
        subject: 'medium',
      },
      {
        code: 'payment_initiation_requires_review',
        outcome: 'review',
        request: request({ scopes: ['payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt' }),
        codes: ['risk_requires_review', 'payment_initiation_requires_review'],
        subject: 'payments:initiate',
      },
      {
        code: 'account_mutation_requires_review',
        outcome: 'review',
        request: request({ scopes: ['accounts:write'], dataClasses: ['confidential'], authMethod: 'private_key_jwt' }),
        codes: ['risk_requires_review', 'account_mutation_requires_review'],
        subject: 'accounts:write',
      },
      {
        code: 'regulated_customer_data_requires_review',
        outcome: 'review',
        request: request({ scopes: ['customers:read'], dataClasses: ['regulated-customer'], authMethod: 'private_key_jwt' }),
        codes: ['risk_requires_review', 'regulated_customer_data_requires_review'],
        subject: 'customers:read',
      },
      {
        code: 'low_risk_self_service',
        outcome: 'auto',
        request: request(),
        codes: ['low_risk_self_service'],
        subject: 'low',
      },
    ];

    it('has one row for every reason code reasons.ts exports, and no others', () => {
      const exported = [...DENY_REASON_CODES, ...REVIEW_REASON_CODES, ...AUTO_REASON_CODES].sort();
      const covered = ROWS.map((r) => r.code).sort();
      expect(covered).toEqual(exported);
      expect(new Set(covered).size).toBe(covered.length);
    });

    it('sorts every code into exactly one outcome family', () => {
      const families = [DENY_REASON_CODES, REVIEW_REASON_CODES, AUTO_REASON_CODES].map((f) => new Set<string>(f));
      for (const row of ROWS) {
        const family = row.outcome === 'deny' ? 0 : row.outcome === 'review' ? 1 : 2;
        expect(families[family]!.has(row.code), row.code).toBe(true);
      }
    });

    it.each(ROWS)('$code leads to $outcome', ({ code, outcome, request: req, codes, subject, policy = defaultPolicy }) => {
      const decision = evaluate(policy, req, NOW);

      expect(decision.outcome).toBe(outcome);
      const got = decision.reasons.map((r) => r.code);
      expect(got).toContain(code);
      expect(got).toEqual(codes);
      const reason = decision.reasons.find((r) => r.code === code)!;
      expect(reason.message.length).toBeGreaterThan(0);
      if (subject !== undefined) expect(reason.subject).toBe(subject);
      if (outcome === 'deny') {
        expect(got.every((c) => (DENY_REASON_CODES as readonly string[]).includes(c))).toBe(true);
      }
    });

    it('reports every deny reason at once rather than stopping at the first', () => {
      const got = codesOf(
        request({
          tier: 'public',
          scopes: ['payments:initiate', 'nope:read'],
          dataClasses: ['public', 'unknown-class'],
          purpose: '',
          expiresAt: undefined,
          authMethod: 'client_secret_basic',
          contacts: [],
          softwareStatement: { scopes: [] },
        }),
      );

      expect(new Set(got)).toEqual(
        new Set<ReasonCode>([
          'scope_unknown',
          'scope_not_allowed_for_tier',
          'data_class_undeclared',
          'data_class_unknown',
          'risk_exceeds_tier_maximum',
          'purpose_missing',
          'contacts_missing',
          'expiry_missing',
          'auth_method_too_weak',
          'software_statement_scope_exceeded',
        ]),
      );
    });

    it('gives no review reasons when the request is denied', () => {
      const decision = evaluate(
        defaultPolicy,
        request({ scopes: ['payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt', contacts: [] }),
        NOW,
      );

      expect(decision.outcome).toBe('deny');
      expect(decision.reasons.map((r) => r.code)).toEqual(['contacts_missing']);
    });

    it('lists one review reason per sensitive category, in scope order, after the risk reason', () => {
      const decision = evaluate(
        defaultPolicy,
        request({
          scopes: ['customers:read', 'accounts:read', 'payments:initiate', 'accounts:write', 'reference-data:read'],
          dataClasses: ['regulated-customer', 'confidential', 'payment', 'public'],
          authMethod: 'private_key_jwt',
        }),
        NOW,
      );

      expect(decision.outcome).toBe('review');
      expect(decision.reasons.map((r) => [r.code, r.subject])).toEqual([
        ['risk_requires_review', 'high'],
        ['regulated_customer_data_requires_review', 'customers:read'],
        ['payment_initiation_requires_review', 'payments:initiate'],
        ['account_mutation_requires_review', 'accounts:write'],
      ]);
    });

    it('names a sensitive category once, after the first scope that has it', () => {
      const policy = policyWith((d) => {
        d.scopes['payments:cancel'] = { ...d.scopes['payments:initiate']!, description: 'Cancel a pending payment.' };
        d.tiers.partner.scopes.push('payments:cancel');
      });

      const decision = evaluate(
        policy,
        request({ scopes: ['payments:cancel', 'payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt' }),
        NOW,
      );

      expect(decision.reasons.map((r) => [r.code, r.subject])).toEqual([
        ['risk_requires_review', 'high'],
        ['payment_initiation_requires_review', 'payments:cancel'],
      ]);
    });

    it('raises the risk from a declared data class even when no scope needs it', () => {
      const decision = evaluate(defaultPolicy, request({ dataClasses: ['public', 'payment'], authMethod: 'private_key_jwt' }), NOW);

      expect(decision.risk).toBe('high');
      expect(decision.outcome).toBe('review');
      expect(decision.reasons.map((r) => r.code)).toEqual(['risk_requires_review']);
    });

    it.each(['client_secret_basic', 'client_secret_post'] as const)('calls %s too weak for medium and high risk', (authMethod) => {
      for (const scopes of [['accounts:read'], ['accounts:write']]) {
        const decision = evaluate(defaultPolicy, request({ scopes, dataClasses: ['confidential'], authMethod }), NOW);
        const reason = decision.reasons.find((r) => r.code === 'auth_method_too_weak');
        expect(reason?.message).toMatch(/too weak/);
      }
    });

    it('says "allows only" when the method is not weaker but still not listed for the risk', () => {
      const policy = policyWith((d) => {
        d.risks.low.authMethods = ['client_secret_basic'];
      });

      const decision = evaluate(policy, request({ authMethod: 'client_secret_post' }), NOW);

      expect(decision.outcome).toBe('deny');
      expect(decision.reasons).toEqual([
        expect.objectContaining({
          code: 'auth_method_too_weak',
          subject: 'client_secret_post',
          message: expect.stringMatching(/allows only client_secret_basic/),
        }),
      ]);
    });
  });

  describe('public consumers and high-risk scopes', () => {
    it('has high-risk scopes in the default policy to test', () => {
      expect(HIGH_SCOPES.length).toBeGreaterThan(0);
    });

    it.each(HIGH_SCOPES)('denies %s to the public tier', (scope) => {
      const decision = evaluate(
        defaultPolicy,
        request({ tier: 'public', scopes: [scope], dataClasses: dataClassesFor([scope]), authMethod: 'private_key_jwt', softwareStatement: {} }),
        NOW,
      );

      expect(decision.outcome).toBe('deny');
      expect(decision.risk).toBe('high');
      expect(decision.reasons).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ code: 'risk_exceeds_tier_maximum', subject: 'high' }),
          expect.objectContaining({ code: 'scope_not_allowed_for_tier', subject: scope }),
        ]),
      );
    });

    const arbitraryPublicRequest = (scopes: fc.Arbitrary<string[]>) =>
      fc.record({
        scopes,
        declareMatching: fc.boolean(),
        otherDataClasses: fc.subarray(ALL_DATA_CLASSES),
        authMethod: fc.constantFrom(...AUTH_METHODS),
        softwareStatement: fc.option(fc.record({ scopes: fc.option(fc.subarray(ALL_SCOPES), { nil: undefined }) }), { nil: undefined }),
        purpose: fc.string({ maxLength: 60 }),
        contacts: fc.array(fc.emailAddress(), { maxLength: 2 }),
        expiryOffsetMs: fc.integer({ min: -DAY_MS, max: 400 * DAY_MS }),
      });

    const toRequest = (g: {
      scopes: string[];
      declareMatching: boolean;
      otherDataClasses: string[];
      authMethod: AuthMethod;
      softwareStatement: { scopes: string[] | undefined } | undefined;
      purpose: string;
      contacts: string[];
      expiryOffsetMs: number;
    }): AccessRequest => ({
      tier: 'public',
      scopes: g.scopes,
      dataClasses: g.declareMatching ? dataClassesFor(g.scopes.filter((s) => s in doc.scopes)) : g.otherDataClasses,
      purpose: g.purpose,
      expiresAt: new Date(NOW.getTime() + g.expiryOffsetMs),
      authMethod: g.authMethod,
      contacts: g.contacts,
      softwareStatement: g.softwareStatement?.scopes ? { scopes: g.softwareStatement.scopes } : g.softwareStatement && {},
    });

    it('denies any set of scopes that contains a high-risk one (property)', () => {
      const withHigh = fc.shuffledSubarray(ALL_SCOPES, { minLength: 1 }).filter((s) => s.some((x) => HIGH_SCOPES.includes(x)));
      fc.assert(
        fc.property(arbitraryPublicRequest(withHigh), (g) => {
          const decision = evaluate(defaultPolicy, toRequest(g), NOW);
          const codes = decision.reasons.map((r) => r.code);

          expect(decision.outcome).toBe('deny');
          expect(decision.risk).toBe('high');
          expect(codes).toContain('risk_exceeds_tier_maximum');
          for (const s of g.scopes.filter((x) => HIGH_SCOPES.includes(x))) {
            expect(decision.reasons).toContainEqual(expect.objectContaining({ code: 'scope_not_allowed_for_tier', subject: s }));
          }
        }),
        { numRuns: 300 },
      );
    });

    it('only ever lets a public request through at low risk (property)', () => {
      const anyScopes = fc.shuffledSubarray([...ALL_SCOPES, 'nope:read'], { minLength: 0 });
      fc.assert(
        fc.property(arbitraryPublicRequest(anyScopes), (g) => {
          const decision = evaluate(defaultPolicy, toRequest(g), NOW);
          if (decision.outcome !== 'deny') {
            expect(decision.outcome).toBe('auto');
            expect(decision.risk).toBe('low');
            expect(g.scopes.every((s) => doc.tiers.public.scopes.includes(s))).toBe(true);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('boundaries', () => {
    const SCENARIO_BY_RISK: Record<RiskLevel, Partial<AccessRequest>> = {
      low: {},
      medium: { scopes: ['accounts:read'], dataClasses: ['confidential'], authMethod: 'private_key_jwt' },
      high: { scopes: ['payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt' },
    };

    describe.each(RISK_LEVELS.map((risk) => ({ risk, maxGrantDays: doc.risks[risk].maxGrantDays })))(
      '$risk risk (max $maxGrantDays days)',
      ({ risk, maxGrantDays }) => {
        const maxExpiry = NOW.getTime() + maxGrantDays * DAY_MS;

        it('allows an expiry exactly at the maximum', () => {
          const decision = evaluate(defaultPolicy, request({ ...SCENARIO_BY_RISK[risk], expiresAt: new Date(maxExpiry) }), NOW);

          expect(decision.risk).toBe(risk);
          expect(decision.outcome).not.toBe('deny');
        });

        it('denies an expiry one millisecond past the maximum', () => {
          const decision = evaluate(defaultPolicy, request({ ...SCENARIO_BY_RISK[risk], expiresAt: new Date(maxExpiry + 1) }), NOW);

          expect(decision.outcome).toBe('deny');
          expect(decision.reasons).toEqual([expect.objectContaining({ code: 'expiry_exceeds_maximum', subject: new Date(maxExpiry).toISOString() })]);
        });
      },
    );

    it.each([
      { label: 'equal to now', offsetMs: 0, codes: ['expiry_in_past'] },
      { label: 'one millisecond before now', offsetMs: -1, codes: ['expiry_in_past'] },
      { label: 'one millisecond after now', offsetMs: 1, codes: ['low_risk_self_service'] },
    ])('treats an expiry $label as $codes', ({ offsetMs, codes }) => {
      expect(codesOf(request({ expiresAt: new Date(NOW.getTime() + offsetMs) }))).toEqual(codes);
    });

    const min = doc.minPurposeLength;
    it.each([
      { label: `exactly ${min} characters`, purpose: 'p'.repeat(min), codes: ['low_risk_self_service'] },
      { label: `exactly ${min} characters once trimmed`, purpose: `  \t${'p'.repeat(min)}\n  `, codes: ['low_risk_self_service'] },
      { label: `${min - 1} characters padded with spaces`, purpose: `${'p'.repeat(min - 1)}          `, codes: ['purpose_missing'] },
      { label: 'only whitespace', purpose: ' '.repeat(min * 2), codes: ['purpose_missing'] },
      { label: 'empty', purpose: '', codes: ['purpose_missing'] },
    ])('judges a purpose of $label', ({ purpose, codes }) => {
      expect(codesOf(request({ purpose }))).toEqual(codes);
    });
  });

  describe('determinism', () => {
    const cases: Array<{ label: string; make: () => AccessRequest }> = [
      { label: 'auto', make: () => request() },
      { label: 'review', make: () => request({ scopes: ['payments:initiate'], dataClasses: ['payment'], authMethod: 'private_key_jwt' }) },
      { label: 'deny', make: () => request({ tier: 'public', scopes: ['customers:read'], contacts: [] }) },
    ];

    it.each(cases)('gives deep-equal $label decisions for equal inputs', ({ make }) => {
      const first = evaluate(defaultPolicy, make(), new Date(NOW));
      const second = evaluate(defaultPolicy, make(), new Date(NOW));

      expect(second).toStrictEqual(first);
    });

    it.each(cases)('records the loaded policy version on a $label decision', ({ make }) => {
      expect(evaluate(defaultPolicy, make(), NOW).policyVersion).toBe(defaultPolicy.version);
    });

    it('records the version of the policy it was given, not the default', () => {
      const other = policyWith((d) => {
        d.minPurposeLength = 21;
      });

      expect(other.version).not.toBe(defaultPolicy.version);
      expect(evaluate(other, request(), NOW).policyVersion).toBe(other.version);
    });

    it('changes nothing it is given', () => {
      const policy = policyWith(() => {});
      const req = request({ scopes: ['payments:initiate', 'accounts:write'], dataClasses: ['payment', 'confidential'], authMethod: 'private_key_jwt' });
      const now = new Date(NOW);
      const before = structuredClone({ doc: policy.document, req });
      deepFreeze(policy);
      deepFreeze(req);

      const decision = evaluate(policy, req, now);

      expect(decision.outcome).toBe('review');
      expect({ doc: policy.document, req }).toStrictEqual(before);
      expect(now.getTime()).toBe(NOW.getTime());
    });

    it('gives the same decision for any generated request (property)', () => {
      fc.assert(
        fc.property(
          fc.constantFrom<Tier>('public', 'partner', 'internal'),
          fc.subarray(ALL_SCOPES),
          fc.subarray(ALL_DATA_CLASSES),
          fc.constantFrom(...AUTH_METHODS),
          fc.integer({ min: -DAY_MS, max: 400 * DAY_MS }),
          (tier, scopes, dataClasses, authMethod, offset) => {
            const make = () => request({ tier, scopes, dataClasses, authMethod, expiresAt: new Date(NOW.getTime() + offset) });
            expect(evaluate(defaultPolicy, make(), NOW)).toStrictEqual(evaluate(defaultPolicy, make(), NOW));
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('software statement scope cap', () => {
    const twoScopes = { scopes: ['reference-data:read', 'accounts:read'], dataClasses: ['public', 'confidential'], authMethod: 'private_key_jwt' } as const;

    it.each([
      { label: 'no cap', softwareStatement: {}, exceeded: [] },
      { label: 'a cap covering every scope', softwareStatement: { scopes: ['accounts:read', 'reference-data:read', 'payments:initiate'] }, exceeded: [] },
      { label: 'a cap missing one scope', softwareStatement: { scopes: ['reference-data:read'] }, exceeded: ['accounts:read'] },
      { label: 'an empty cap', softwareStatement: { scopes: [] }, exceeded: ['reference-data:read', 'accounts:read'] },
    ])('with $label denies exactly the uncovered scopes', ({ softwareStatement, exceeded }) => {
      const decision = evaluate(defaultPolicy, request({ ...twoScopes, softwareStatement }), NOW);
      const subjects = decision.reasons.filter((r) => r.code === 'software_statement_scope_exceeded').map((r) => r.subject);

      expect(subjects).toEqual(exceeded);
      expect(decision.outcome).toBe(exceeded.length > 0 ? 'deny' : 'review');
    });

    it('applies the cap to a public consumer who presents a statement', () => {
      const got = codesOf(request({ tier: 'public', softwareStatement: { scopes: ['accounts:read'] } }));

      expect(got).toEqual(['software_statement_scope_exceeded']);
    });

    it('does not require a statement from a public consumer', () => {
      expect(codesOf(request({ tier: 'public', softwareStatement: undefined }))).toEqual(['low_risk_self_service']);
    });

    it.each(['partner', 'internal'] as const)('requires a statement from the %s tier', (tier) => {
      expect(codesOf(request({ tier, softwareStatement: undefined }))).toEqual(['software_statement_required']);
    });
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
