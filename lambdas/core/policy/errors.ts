export type PolicyErrorCode = 'policy_invalid' | 'policy_unreadable';

/** A policy document that cannot be used; start-up and synth fail with its message. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;
  readonly issues: readonly string[];

  constructor(code: PolicyErrorCode, message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(issues.length ? `${message}:\n  - ${issues.join('\n  - ')}` : message, options);
    this.code = code;
    this.issues = issues;
  }
}
