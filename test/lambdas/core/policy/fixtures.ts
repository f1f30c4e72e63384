import { fileURLToPath } from 'node:url';
import type { AccessRequest } from '../../../../lambdas/core/policy/evaluate.js';
import { loadPolicy, loadPolicyFile, type LoadedPolicy } from '../../../../lambdas/core/policy/load.js';
import type { PolicyDocument } from '../../../../lambdas/core/policy/schema.js';

/** The policy the project ships; tests read the real file so a policy change is caught here. */
export const DEFAULT_POLICY_PATH = fileURLToPath(new URL('../../../../policy/policy.json', import.meta.url));

/** Frozen clock for every policy test: the real clock is never read. */
export const NOW = new Date('2026-11-25T10:00:00Z');
export const DAY_MS = 86_400_000;

export const defaultPolicy: LoadedPolicy = loadPolicyFile(DEFAULT_POLICY_PATH);

/** A fresh, mutable copy of the default document, for building variants. */
export function defaultDocument(): PolicyDocument {
  return structuredClone(defaultPolicy.document);
}

/** Loads the default document after `mutate` has changed it. */
export function policyWith(mutate: (doc: PolicyDocument) => void): LoadedPolicy {
  const doc = defaultDocument();
  mutate(doc);
  return loadPolicy(doc);
}

/** A request that the default policy auto-approves for a partner: override what a test is about. */
export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    tier: 'partner',
    scopes: ['reference-data:read'],
    dataClasses: ['public'],
    purpose: 'Show FX rates in our treasury dashboard',
    expiresAt: new Date(NOW.getTime() + 30 * DAY_MS),
    authMethod: 'client_secret_basic',
    contacts: ['api-owner@partner.example'],
    softwareStatement: {},
    ...overrides,
  };
}
