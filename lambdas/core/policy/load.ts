import { readFileSync } from 'node:fs';
import { compiledPolicy } from './compiled.js';
import { PolicyError } from './errors.js';
import { PolicyDocumentSchema, type PolicyDocument } from './schema.js';

/** A validated policy and the version every decision records: `id@hash`. */
export interface LoadedPolicy {
  readonly document: PolicyDocument;
  readonly id: string;
  readonly hash: string;
  readonly version: string;
}

/** Validates a parsed policy document and computes its version; throws PolicyError with every issue found. */
export function loadPolicy(raw: unknown): LoadedPolicy {
  const parsed = PolicyDocumentSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new PolicyError('policy_invalid', 'The Gatehouse policy document is invalid', issues);
  }
  return compiledPolicy(parsed.data);
}

/** Reads, parses and validates a policy file. */
export function loadPolicyFile(path: string): LoadedPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : ((cause as NodeJS.ErrnoException).code ?? (cause as Error).message);
    throw new PolicyError('policy_unreadable', `Cannot read the policy file ${path} (${reason})`, [], { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new PolicyError('policy_unreadable', `The policy file ${path} is not valid JSON: ${(cause as Error).message}`, [], { cause });
  }
  return loadPolicy(raw);
}
