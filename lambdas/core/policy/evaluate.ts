import type { LoadedPolicy } from './load.js';
import type { Reason, ReviewReasonCode } from './reasons.js';
import { AUTH_METHOD_STRENGTH, RISK_LEVELS, type AuthMethod, type RiskLevel, type Tier } from './levels.js';
import type { RiskRequirements, ScopeCategory } from './schema.js';

/** What a consumer asks for, as the policy sees it (already parsed at the boundary). */
export interface AccessRequest {
  readonly tier: Tier;
  readonly scopes: readonly string[];
  readonly dataClasses: readonly string[];
  readonly purpose: string;
  readonly expiresAt: Date | undefined;
  readonly authMethod: AuthMethod;
  readonly contacts: readonly string[];
  /** Present only when a software statement was verified; its `scope`, if any, caps what may be asked for. */
  readonly softwareStatement?: { readonly scopes?: readonly string[] } | undefined;
}

export type Outcome = 'auto' | 'review' | 'deny';

/** The policy's answer: the path, the risk, what the consumer must meet, and why. */
export interface Decision {
  readonly outcome: Outcome;
  readonly risk: RiskLevel;
  readonly requirements: RiskRequirements;
  readonly reasons: readonly Reason[];
  readonly policyVersion: string;
}

const DAY_MS = 86_400_000;

const REVIEW_BY_CATEGORY: Partial<Record<ScopeCategory, ReviewReasonCode>> = {
  payment_initiation: 'payment_initiation_requires_review',
  account_mutation: 'account_mutation_requires_review',
  regulated_customer_data: 'regulated_customer_data_requires_review',
};

const rank = (r: RiskLevel): number => RISK_LEVELS.indexOf(r);
const maxRisk = (a: RiskLevel, b: RiskLevel): RiskLevel => (rank(a) >= rank(b) ? a : b);

/** Evaluates an access request against the policy. Pure: the same policy, request and time give the same decision. */
export function evaluate(policy: LoadedPolicy, request: AccessRequest, now: Date): Decision {
  const doc = policy.document;
  const tier = doc.tiers[request.tier];
  const deny: Reason[] = [];

  let risk: RiskLevel = 'low';
  if (request.scopes.length === 0) deny.push({ code: 'scope_missing', message: 'At least one scope must be requested.' });
  for (const name of request.scopes) {
    const scope = doc.scopes[name];
    if (!scope) {
      deny.push({ code: 'scope_unknown', subject: name, message: `Scope "${name}" is not in the catalogue.` });
      continue;
    }
    risk = maxRisk(risk, scope.risk);
    if (!tier.scopes.includes(name)) {
      deny.push({ code: 'scope_not_allowed_for_tier', subject: name, message: `Scope "${name}" is not available to the ${request.tier} tier.` });
    }
    if (!request.dataClasses.includes(scope.dataClass)) {
      deny.push({
        code: 'data_class_undeclared',
        subject: scope.dataClass,
        message: `Scope "${name}" reaches "${scope.dataClass}" data, which the request does not declare.`,
      });
    }
  }
  for (const name of request.dataClasses) {
    const dataClass = doc.dataClasses[name];
    if (!dataClass) {
      deny.push({ code: 'data_class_unknown', subject: name, message: `Data class "${name}" is not in the catalogue.` });
      continue;
    }
    risk = maxRisk(risk, dataClass.risk);
    if (!tier.dataClasses.includes(name)) {
      deny.push({ code: 'data_class_not_allowed_for_tier', subject: name, message: `Data class "${name}" is not available to the ${request.tier} tier.` });
    }
  }
  if (rank(risk) > rank(tier.maxRisk)) {
    deny.push({
      code: 'risk_exceeds_tier_maximum',
      subject: risk,
      message: `The request is ${risk} risk; the ${request.tier} tier allows at most ${tier.maxRisk}.`,
    });
  }

  const requirements = doc.risks[risk];

  if (request.purpose.trim().length < doc.minPurposeLength) {
    deny.push({ code: 'purpose_missing', message: `State the business purpose in at least ${doc.minPurposeLength} characters.` });
  }
  if (request.contacts.length === 0) {
    deny.push({ code: 'contacts_missing', message: 'At least one accountable contact is required.' });
  }

  if (!request.expiresAt || Number.isNaN(request.expiresAt.getTime())) {
    deny.push({ code: 'expiry_missing', message: 'Every grant needs an expiry date (expires_at).' });
  } else if (request.expiresAt.getTime() <= now.getTime()) {
    deny.push({ code: 'expiry_in_past', message: 'expires_at must be in the future.' });
  } else {
    const maxExpiry = now.getTime() + requirements.maxGrantDays * DAY_MS;
    if (request.expiresAt.getTime() > maxExpiry) {
      deny.push({
        code: 'expiry_exceeds_maximum',
        subject: new Date(maxExpiry).toISOString(),
        message: `${risk} risk grants last at most ${requirements.maxGrantDays} days.`,
      });
    }
  }

  if (!tier.authMethods.includes(request.authMethod)) {
    deny.push({
      code: 'auth_method_not_allowed_for_tier',
      subject: request.authMethod,
      message: `The ${request.tier} tier does not allow ${request.authMethod}.`,
    });
  }
  if (!requirements.authMethods.includes(request.authMethod)) {
    const weakest = Math.min(...requirements.authMethods.map((m) => AUTH_METHOD_STRENGTH[m]));
    const tooWeak = AUTH_METHOD_STRENGTH[request.authMethod] < weakest;
    deny.push({
      code: 'auth_method_too_weak',
      subject: request.authMethod,
      message: tooWeak
        ? `${risk} risk needs one of ${requirements.authMethods.join(', ')}; ${request.authMethod} is too weak.`
        : `${risk} risk allows only ${requirements.authMethods.join(', ')}.`,
    });
  }

  if (tier.softwareStatement === 'required' && !request.softwareStatement) {
    deny.push({ code: 'software_statement_required', message: `The ${request.tier} tier needs a software statement signed by the bank.` });
  }
  const capped = request.softwareStatement?.scopes;
  if (capped) {
    for (const name of request.scopes) {
      if (!capped.includes(name)) {
        deny.push({ code: 'software_statement_scope_exceeded', subject: name, message: `The software statement does not cover scope "${name}".` });
      }
    }
  }

  const base = { risk, requirements, policyVersion: policy.version };
  if (deny.length > 0) return { ...base, outcome: 'deny', reasons: deny };

  if (requirements.approvals > 0) {
    const review: Reason[] = [{ code: 'risk_requires_review', subject: risk, message: `${risk} risk needs ${requirements.approvals} approval(s).` }];
    const seen = new Set<ReviewReasonCode>();
    for (const name of request.scopes) {
      const code = REVIEW_BY_CATEGORY[doc.scopes[name]!.category];
      if (code && !seen.has(code)) {
        seen.add(code);
        review.push({ code, subject: name, message: `Scope "${name}" is ${doc.scopes[name]!.category.replaceAll('_', ' ')}.` });
      }
    }
    return { ...base, outcome: 'review', reasons: review };
  }
  return { ...base, outcome: 'auto', reasons: [{ code: 'low_risk_self_service', subject: risk, message: 'Low risk: approved by policy.' }] };
}
