/** Longest `jwks_uri` accepted. */
export const MAX_JWKS_URI_LENGTH = 2000;

/**
 * Why `url` cannot be a `jwks_uri`, or undefined when it can: an absolute https URL without credentials or a fragment.
 * The address it resolves to is checked by the fetcher, at each fetch (a name can change what it points at).
 */
export function jwksUriProblem(url: string): string | undefined {
  if (url.length > MAX_JWKS_URI_LENGTH) return `must be at most ${MAX_JWKS_URI_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute https URL';
  }
  if (parsed.protocol !== 'https:') return `must be an https URL (not ${parsed.protocol.replace(/:$/, '')})`;
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  if (parsed.hash !== '' || url.includes('#')) return 'must not have a fragment';
  return undefined;
}
