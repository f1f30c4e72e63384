/** Why a request is denied: it breaks the policy. */
export const DENY_REASON_CODES = [
  'scope_missing',
  'scope_unknown',
  'scope_not_allowed_for_tier',
  'risk_exceeds_tier_maximum',
  'data_class_unknown',
  'data_class_not_allowed_for_tier',
  'data_class_undeclared',
  'purpose_missing',
  'expiry_missing',
  'expiry_in_past',
  'expiry_exceeds_maximum',
  'auth_method_too_weak',
  'auth_method_not_allowed_for_tier',
  'software_statement_required',
  'software_statement_scope_exceeded',
  'contacts_missing',
] as const;

/** Why an existing consumer no longer meets a newer policy, besides the deny reasons a new request would get. */
export const DRIFT_REASON_CODES = ['approvals_insufficient'] as const;

/** Why a request goes to human review. */
export const REVIEW_REASON_CODES = [
  'risk_requires_review',
  'payment_initiation_requires_review',
  'account_mutation_requires_review',
  'regulated_customer_data_requires_review',
] as const;

/** Why a request is approved without a human. */
export const AUTO_REASON_CODES = ['low_risk_self_service'] as const;

export type DenyReasonCode = (typeof DENY_REASON_CODES)[number];
export type ReviewReasonCode = (typeof REVIEW_REASON_CODES)[number];
export type AutoReasonCode = (typeof AUTO_REASON_CODES)[number];
export type DriftReasonCode = (typeof DRIFT_REASON_CODES)[number];
export type ReasonCode = DenyReasonCode | ReviewReasonCode | AutoReasonCode | DriftReasonCode;

/** A machine-readable reason with a human sentence and, where useful, what it is about. */
export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
  readonly subject?: string;
}
