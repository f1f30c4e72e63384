import type { Consumer } from '../consumer/consumer.js';
import { keyIdentity } from '../consumer/keys.js';
import { AUTH_METHOD_STRENGTH } from '../policy/levels.js';
import type { ProposedRegistration } from '../requests/change-request.js';

/** What an RFC 7592 update asks the registration to become, before the policy has looked at it. */
export type RegistrationDraft = Omit<ProposedRegistration, 'risk' | 'requirements' | 'policyVersion' | 'decisionReasons'>;

/** One difference between the registration and the update, in words; `raises` when it extends access or weakens a control. */
export interface RegistrationChange {
  readonly text: string;
  readonly raises: boolean;
}

const added = <T>(from: readonly T[], to: readonly T[]): T[] => to.filter((x) => !from.includes(x));
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const keyName = (k: Readonly<Record<string, unknown>>): string => (typeof k['kid'] === 'string' ? k['kid'] : `${String(k['kty'])} key`);

/**
 * The differences between a consumer's registration and an update of it. Extending access or weakening a control raises
 * risk and goes to the policy (another scope or data class, a later end, a weaker client authentication, a new purpose,
 * dropping DPoP binding); the rest narrows access or changes who and what is on record, and applies at once.
 */
export function classifyUpdate(current: Consumer, draft: RegistrationDraft): RegistrationChange[] {
  const out: RegistrationChange[] = [];
  for (const s of added(current.scopes, draft.scopes)) out.push({ text: `add scope ${s}`, raises: true });
  for (const s of added(draft.scopes, current.scopes)) out.push({ text: `remove scope ${s}`, raises: false });
  for (const d of added(current.dataClasses, draft.dataClasses)) out.push({ text: `add data class ${d}`, raises: true });
  for (const d of added(draft.dataClasses, current.dataClasses)) out.push({ text: `remove data class ${d}`, raises: false });
  const end = Date.parse(draft.expiresAt);
  const currentEnd = Date.parse(current.expiresAt);
  if (end > currentEnd) out.push({ text: `extend access until ${draft.expiresAt}`, raises: true });
  if (end < currentEnd) out.push({ text: `end access earlier, at ${draft.expiresAt}`, raises: false });
  if (draft.authMethod !== current.authMethod) {
    const weaker = AUTH_METHOD_STRENGTH[draft.authMethod] < AUTH_METHOD_STRENGTH[current.authMethod];
    out.push({ text: `authenticate with ${draft.authMethod} instead of ${current.authMethod}`, raises: weaker });
  }
  if (draft.purpose !== current.purpose) out.push({ text: 'change the stated purpose', raises: true });
  if (current.dpopBoundAccessTokens === true && draft.dpopBoundAccessTokens !== true) out.push({ text: 'stop asking for DPoP-bound tokens', raises: true });
  if (current.dpopBoundAccessTokens !== true && draft.dpopBoundAccessTokens === true) out.push({ text: 'ask for DPoP-bound tokens', raises: false });
  if (draft.clientName !== current.clientName) out.push({ text: `rename to "${draft.clientName}"`, raises: false });
  if (!sameSet(current.contacts, draft.contacts)) out.push({ text: `replace the contacts with ${draft.contacts.join(', ') || 'none'}`, raises: false });
  const before = new Map((current.jwks?.keys ?? []).map((k) => [keyIdentity(k), k]));
  const after = new Map((draft.jwks?.keys ?? []).map((k) => [keyIdentity(k), k]));
  for (const [id, k] of after) if (!before.has(id)) out.push({ text: `add key ${keyName(k)}`, raises: false });
  for (const [id, k] of before) if (!after.has(id)) out.push({ text: `remove key ${keyName(k)}`, raises: false });
  if ((draft.jwksUri ?? '') !== (current.jwksUri ?? '')) {
    out.push({ text: draft.jwksUri ? `publish the keys at ${draft.jwksUri}` : 'register the keys inline instead of at jwks_uri', raises: false });
  }
  if ((draft.softwareId ?? '') !== (current.softwareId ?? '')) out.push({ text: `set software_id to ${draft.softwareId ?? 'none'}`, raises: false });
  return out;
}
