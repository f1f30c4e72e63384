/**
 * Progress of re-evaluating consumers after the deployed policy version changed: which version, where the scan stopped,
 * whether it finished. One record; sweeps take turns on it with conditional writes.
 */
export interface PolicyRollout {
  readonly version: string;
  readonly startedAt: string;
  readonly cursor?: string | undefined;
  readonly complete: boolean;
  /** Consumers re-evaluated so far, and how many were found out of policy. */
  readonly reevaluated: number;
  readonly outOfPolicy: number;
  /** Optimistic concurrency: each save expects the revision it read. */
  readonly revision: number;
}

export interface PolicyRolloutStore {
  getPolicyRollout(): Promise<PolicyRollout | undefined>;
  /** Stores `next` if the stored revision is still `expectRevision` (0: none stored); false when another sweep moved it. */
  savePolicyRollout(next: PolicyRollout, expectRevision: number): Promise<boolean>;
}
