import { GatehouseError } from '../errors.js';

export type PolicyErrorCode = 'policy_invalid' | 'policy_unreadable';

/** A policy document that cannot be used; start-up and synth fail with its message. */
export class PolicyError extends GatehouseError<PolicyErrorCode> {
  override readonly name = 'PolicyError';
  readonly issues: readonly string[];

  constructor(code: PolicyErrorCode, message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, issues.length ? `${message}:\n  - ${issues.join('\n  - ')}` : message, options);
    this.issues = issues;
  }
}
