import fc from 'fast-check';

/**
 * Building blocks of the route fuzzers: hostile strings, bodies, encodings, header values and path segments. Nothing here
 * knows a route; route-models.ts combines them per route.
 */

/** Strings that break parsers and validators: controls and NUL, BOM, bidi overrides, lone surrogates, injection bait. */
const NASTY = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\u202Egnp.exe',
  '\uD800',
  '😀',
  'Ω≈ç√',
  '%00',
  '%',
  '../..',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  "' OR 1=1 --",
  'null',
  'true',
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '{}',
  '[]',
] as const;

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.constantFrom(...NASTY), weight: 3 },
  { arbitrary: fc.integer({ min: 200, max: 9000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** Any JSON value, hostile strings included. */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  { arbitrary: nastyString, weight: 2 },
  { arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308), weight: 1 },
  { arbitrary: fc.array(nastyString, { maxLength: 30 }), weight: 1 },
);

/** A JSON fragment nested this deep (arrays or objects), as text: JSON.stringify would not build it cheaply. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export const deepNesting: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
  .map(([d, k]) => deepJson(d, k));

/** Bodies that are not what any JSON route wants: bytes, text, arrays, scalars, broken or deeply nested JSON. */
export const junkJsonText: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  jsonValue.map((v) => JSON.stringify(v) ?? 'undefined'),
  deepNesting,
  fc.constantFrom(
    '{',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{"a":1}{"b":2}',
    '\uFEFF{}',
    '{"a":1} trailing',
    '{"a":"\u0000"}',
    '{"__proto__":{"admin":true}}',
    'NaN',
    '1e999999',
    '"\\ud800"',
  ),
);

/** Content types around `preferred`: parameters, case, whitespace, near misses and strangers. */
export function contentType(preferred: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(preferred), weight: 24 },
    {
      arbitrary: fc.constantFrom(
        `${preferred}; charset=utf-8`,
        `${preferred}; charset=UTF-16LE`,
        `${preferred};charset="iso-8859-1"`,
        `${preferred}; charset=utf-8; charset=ascii`,
        `${preferred};;`,
        preferred.toUpperCase(),
        `${preferred}+x`,
        `x-${preferred}`,
      ),
      weight: 3,
    },
    {
      arbitrary: fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'text/html',
        'multipart/form-data; boundary=----x',
        'application/xml',
        'application/octet-stream',
        '*/*',
        ';',
        'application',
        'application/problem+json',
      ),
      weight: 2,
    },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

/** A string as the bytes a header can carry (latin-1 on the wire: UTF-8 bytes pass as such), controls removed. */
export function asHeaderValue(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('latin1')
      // eslint-disable-next-line no-control-regex -- removes the control characters a header value cannot carry
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '')
      .trim()
  );
}

export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: nastyString.map(asHeaderValue), weight: 4 },
  { arbitrary: fc.integer({ min: 1000, max: 4000 }).map((n) => 'h'.repeat(n)), weight: 1 },
  { arbitrary: fc.constantFrom('', '\t', ',,,', 'a, b, c', '"quoted"', 'bytes=0-', 'gzip', 'chunked'), weight: 1 },
);

/** Headers a client may add that no route needs: they must change nothing. */
export const junkHeaders: fc.Arbitrary<Record<string, string | string[]>> = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-for',
    'x-forwarded-host',
    'forwarded',
    'x-http-method-override',
    'accept',
    'accept-charset',
    'accept-encoding',
    'content-encoding',
    'content-language',
    'user-agent',
    'referer',
    'origin',
    'cookie',
    'x-amzn-trace-id',
    'x-api-key',
    'if-none-match',
    'range',
  ),
  fc.oneof({ arbitrary: headerValue, weight: 4 }, { arbitrary: fc.array(headerValue, { minLength: 2, maxLength: 3 }), weight: 1 }),
  { maxKeys: 4 },
);

/** encodeURIComponent that never throws (a lone surrogate is sent as its replacement character). */
export function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    // A lone surrogate cannot be percent-encoded as UTF-8: send its replacement character instead.
    return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8'));
  }
}

/** A path segment for `{param}`: random text (encoded), traversal, encoded slashes, broken percent-encoding, very long. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: nastyString.filter((s) => s.length < 3000).map(encode), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '%2e%2e',
      '%2E%2E%2F%2E%2E%2Fadmin',
      '%2F',
      'a%2Fb',
      '..%2F..%2Fadmin%2Fconsumers',
      '%5C..%5C',
      '%',
      '%zz',
      '%c3%28',
      '%ff%fe',
      '%00',
      'gh_%00',
      '%E2%80%AE',
      '*',
      '~',
      ';x=1',
      'a;b=c',
      '%20',
      '+',
      '@',
      'gh_x#frag',
      '%23',
      '%3F',
      'gh_0000000000000000',
    ),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: 300, max: 8000 }).map((n) => 'a'.repeat(n)), weight: 1 },
);

/** A raw query string: random pairs, repeats, bad percent-encoding, no `=`, empty pairs. */
export const junkQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        nastyString.filter((s) => s.length < 200),
        nastyString.filter((s) => s.length < 200),
      ),
      { maxLength: 5 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&')),
  fc.constantFrom('%', '%zz=1', 'a=%c3%28', '&&&', '=', '==', 'a', 'a=1&a=2&a=3', '+=+', 't', 't=', 'limit=1&limit=2', `x=${'q'.repeat(4000)}`),
);

/** Form-encodes pairs as a browser would (spaces as +); a pair with `raw` is sent verbatim. */
export function formBody(pairs: readonly (readonly [string, string] | { readonly raw: string })[]): string {
  return pairs.map((p) => ('raw' in p ? p.raw : `${encode(p[0]).replace(/%20/g, '+')}=${encode(p[1]).replace(/%20/g, '+')}`)).join('&');
}

/** Raw form fragments: bad percent-encoding, keys without values, empty pairs, stray separators. */
export const rawFormFragment: fc.Arbitrary<{ raw: string }> = fc
  .constantFrom('%', '%zz', 'grant_type=%c3%28', 'client_id', '=', '&', 'a=b=c', 'scope=%00', 'token=%E2%80%AE', '+', ';', 'client_secret=%')
  .map((raw) => ({ raw }));

/** Base64 of a UTF-8 string. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** `Authorization` values that authenticate nobody: broken Basic, wrong schemes, absurd lengths. */
export const junkAuthorization: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'Basic',
    'Basic ',
    'Basic %%%',
    'Basic ====',
    'Basic !!!!',
    'Basic Og==',
    'basic YTo=',
    'Basic OmI=',
    'Bearer',
    'Bearer ',
    'Digest username="x"',
    'Negotiate YII=',
    'AWS4-HMAC-SHA256 Credential=x',
    'Basic JXp6OiV6eg==',
  ),
  nastyString.map((s) => asHeaderValue(`Basic ${s}`)),
  nastyString.map((s) => `Basic ${b64(s)}`),
  fc.uint8Array({ maxLength: 64 }).map((b) => `Basic ${Buffer.from(b).toString('base64')}`),
  nastyString.map((s) => asHeaderValue(`Bearer ${s}`)),
  fc.integer({ min: 1000, max: 8000 }).map((n) => `Bearer ${'t'.repeat(n)}`),
);

/** Changes one character in the middle of a JWT's signature (every bit of a middle base64url character counts). */
export function tamper(jwt: string): string {
  const dot = jwt.lastIndexOf('.');
  const i = dot + 10;
  const c = jwt[i] === 'A' ? 'B' : 'A';
  return `${jwt.slice(0, i)}${c}${jwt.slice(i + 1)}`;
}
