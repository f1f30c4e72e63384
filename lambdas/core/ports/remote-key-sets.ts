/**
 * Fetches a client's published key set (its registered `jwks_uri`) from the partner's server. The adapter owns the
 * network's safety rules (https only, no redirects, no address inside the bank or the cloud, size and time limits) and
 * throws RemoteKeySetError (lambdas/core/remote-jwks/errors.ts) stating the rule a fetch broke; the core decides what
 * the content may be and how long it is trusted (lambdas/core/remote-jwks/cache.ts).
 */
export interface RemoteKeySets {
  /** The parsed JSON body the URL answers with. */
  fetchJson(url: string): Promise<unknown>;
}
