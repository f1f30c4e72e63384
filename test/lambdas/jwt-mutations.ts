import fc from 'fast-check';
import { base64url } from 'jose';

/** Marks a claim or header parameter to delete rather than change. */
export const REMOVE = Symbol('remove');

/** One way of damaging a compact JWS. Segments are numbered 0 (header), 1 (payload), 2 (signature). */
export type JwtMutation =
  | { readonly kind: 'flip' | 'insert'; readonly segment: number; readonly at: number; readonly char: string }
  | { readonly kind: 'delete'; readonly segment: number; readonly at: number }
  | { readonly kind: 'claim' | 'header'; readonly pick: number; readonly value: unknown }
  | { readonly kind: 'swap'; readonly a: number; readonly b: number }
  | { readonly kind: 'strip-signature' };

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const character = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...B64URL) },
  { weight: 1, arbitrary: fc.constantFrom('.', '=', '+', '/', ' ', '%', '~', 'é') },
);

const replacement = fc.oneof(
  fc.constant(REMOVE),
  fc.constantFrom('none', 'HS256', 'RS256', 'ES256', 'PS256', 'EdDSA', 'JWT', 'at+jwt', 'dpop+jwt', 'https://evil.example', 'GET', 'POST', ''),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }),
);

/**
 * Random damage to a JWS: character flips, insertions and deletions, a claim or header parameter changed or removed
 * (re-encoded, the old signature kept), segments swapped, the signature stripped.
 */
export const jwtMutation: fc.Arbitrary<JwtMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('flip' as const, 'insert' as const), segment: fc.nat(2), at: fc.nat(), char: character }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), segment: fc.nat(2), at: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('claim' as const, 'header' as const), pick: fc.nat(), value: replacement }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), a: fc.nat(2), b: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'strip-signature' as const }) },
);

function differentFrom(old: unknown, value: unknown): unknown {
  if (JSON.stringify(old) !== JSON.stringify(value)) return value;
  return typeof old === 'number' ? old + 1 : `${String(old)}x`;
}

/** Applies a mutation to a compact JWS. */
export function mutate(jws: string, m: JwtMutation): string {
  const parts = jws.split('.');
  switch (m.kind) {
    case 'flip':
    case 'insert':
    case 'delete': {
      const segment = parts[m.segment]!;
      if (m.kind === 'insert' || segment.length === 0) {
        const at = m.at % (segment.length + 1);
        parts[m.segment] = segment.slice(0, at) + (m.kind === 'delete' ? '' : m.char) + segment.slice(at);
      } else {
        const at = m.at % segment.length;
        parts[m.segment] = segment.slice(0, at) + (m.kind === 'flip' ? m.char : '') + segment.slice(at + 1);
      }
      break;
    }
    case 'claim':
    case 'header': {
      const index = m.kind === 'header' ? 0 : 1;
      const object = JSON.parse(new TextDecoder().decode(base64url.decode(parts[index]!))) as Record<string, unknown>;
      const names = Object.keys(object);
      const name = names[m.pick % names.length]!;
      if (m.value === REMOVE) delete object[name];
      else object[name] = differentFrom(object[name], m.value);
      parts[index] = base64url.encode(JSON.stringify(object));
      break;
    }
    case 'swap': {
      const b = m.a === m.b ? (m.a + 1) % 3 : m.b;
      [parts[m.a], parts[b]] = [parts[b]!, parts[m.a]!];
      break;
    }
    case 'strip-signature':
      parts[2] = '';
      break;
  }
  return parts.join('.');
}

/**
 * Whether `mutated` is the same JWS as `original` to a verifier: same signing input and a signature segment that
 * decodes (leniently, as jose does: whitespace and unused trailing bits are ignored) to the same bytes. Such a
 * "mutation" changes nothing that is signed, so it is not expected to be refused.
 */
export function sameJws(original: string, mutated: string): boolean {
  const a = original.split('.');
  const b = mutated.split('.');
  if (b.length !== 3 || a[0] !== b[0] || a[1] !== b[1]) return false;
  try {
    return Buffer.from(base64url.decode(a[2]!)).equals(Buffer.from(base64url.decode(b[2]!)));
  } catch {
    return false;
  }
}
