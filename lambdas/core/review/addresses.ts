import type { ReviewerGroups } from '../config.js';

/** The domain of an address, lower-cased ('' when it has none). */
export function domainOf(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0
    ? ''
    : email
        .slice(at + 1)
        .trim()
        .toLowerCase();
}

/** The bank's own mail domains: every domain a reviewer or an operator has an address in. */
export function bankDomains(reviewers: ReviewerGroups, operators: readonly { readonly email: string }[] = []): string[] {
  const all = [...Object.values(reviewers).flatMap((g: readonly string[] | undefined) => g ?? []), ...operators.map((o) => o.email)];
  return [...new Set(all.map(domainOf).filter((d) => d.length > 0))];
}

/** Whether `email` is in one of `domains` or a subdomain of one. */
export function inDomains(email: string, domains: readonly string[]): boolean {
  const d = domainOf(email);
  return domains.some((own) => d === own || d.endsWith(`.${own}`));
}

/**
 * The person an address reaches, for separation of duties: case is ignored, and in the bank's own domains (whose mail
 * servers deliver `name+tag@` to `name@`) so is a `+tag`, so one reviewer cannot appear as two people.
 */
export function addressKey(email: string, ownDomains: readonly string[]): string {
  const address = email.trim().toLowerCase();
  const at = address.lastIndexOf('@');
  if (at < 0 || !inDomains(address, ownDomains)) return address;
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${address.slice(at)}` : address;
}
