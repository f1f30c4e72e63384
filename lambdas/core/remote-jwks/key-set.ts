import type { PublicJwk } from '../consumer/consumer.js';
import { hasPrivateMembers } from '../util/jwk.js';
import { RemoteKeySetError } from './errors.js';

/** Most keys a published set may hold (directory-hosted sets list encryption and retired keys as well). */
export const MAX_REMOTE_KEYS = 50;

/** A validated set of public signing keys. */
export interface RemoteKeySet {
  readonly keys: readonly PublicJwk[];
}

/**
 * What is wrong with one published key, by the rules registration's `jwks` schema applies (kty EC, RSA or OKP; a kid of
 * 1 to 200 characters; members strings, booleans or short string lists). Written out here because the token function,
 * which checks published keys, carries no schema library.
 */
function keyProblem(key: Record<string, unknown>): string | undefined {
  if (!['EC', 'RSA', 'OKP'].includes(key['kty'] as string)) return 'kty must be EC, RSA or OKP';
  const kid = key['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid.length < 1 || kid.length > 200)) return 'kid must be a string of 1 to 200 characters';
  for (const [name, value] of Object.entries(key)) {
    const ok =
      (typeof value === 'string' && value.length <= 8192) ||
      typeof value === 'boolean' ||
      (Array.isArray(value) && value.length <= 10 && value.every((v) => typeof v === 'string' && v.length <= 8192));
    if (!ok) return `member "${name.slice(0, 50)}" is not a string, boolean or short list of strings`;
  }
  return undefined;
}

const notASet = (why: string) => new RemoteKeySetError('not_a_key_set', `the document is not a usable JSON Web Key Set: ${why}`);

/**
 * Checks what a `jwks_uri` answered: a JWK Set (RFC 7517 section 5) of public keys. A set holding any private member is
 * refused whole, not filtered: whoever publishes a private key has leaked it, and no key of that set can be trusted.
 * Keys marked for encryption (`use: "enc"`) are left out; at least one signing key must remain.
 */
export function parseRemoteKeySet(body: unknown): RemoteKeySet {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notASet('expected a JSON object with "keys"');
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw notASet('"keys" is not an array');
  if (keys.length > MAX_REMOTE_KEYS) throw notASet(`it holds ${keys.length} keys, more than ${MAX_REMOTE_KEYS}`);
  const out: PublicJwk[] = [];
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw notASet(`keys[${i}] is not an object`);
    if (hasPrivateMembers(key)) {
      const kid = (key as { kid?: unknown }).kid;
      throw new RemoteKeySetError(
        'not_a_key_set',
        `the key set publishes private key material (keys[${i}]${typeof kid === 'string' ? `, kid "${kid.slice(0, 100)}"` : ''}): publish public keys only, and replace that key`,
      );
    }
    if ((key as { use?: unknown }).use === 'enc') continue;
    const problem = keyProblem(key as Record<string, unknown>);
    if (problem !== undefined) throw notASet(`keys[${i}]: ${problem}`);
    out.push(key as PublicJwk);
  }
  if (out.length === 0) throw notASet('it holds no signing key');
  return { keys: out };
}
