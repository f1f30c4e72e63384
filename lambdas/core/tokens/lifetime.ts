/** The policy shape the lifetime rules read: each risk's access-token lifetime. */
export interface TokenLifetimePolicy {
  readonly document: { readonly risks: Record<string, { readonly accessTokenTtlSeconds: number }> };
}

/**
 * The longest an access token may live under a policy: its longest risk TTL. Exceptions never go beyond it, so the
 * previous signing key's overlap and the revocation list's retention, both sized from it, cover every token issued.
 */
export function longestAccessTokenTtlSeconds(policy: TokenLifetimePolicy): number {
  // A loop rather than spreading a mapped array: the token path asks on every request.
  const risks = policy.document.risks;
  let longest = Number.NEGATIVE_INFINITY;
  for (const risk in risks) if (Object.hasOwn(risks, risk)) longest = Math.max(longest, risks[risk]!.accessTokenTtlSeconds);
  return longest;
}
