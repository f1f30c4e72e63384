import fc from 'fast-check';
import type { Route } from '../../../lambdas/contracts/routes.js';
import type { Fixture } from './fixture.js';
import {
  asHeaderValue,
  b64,
  contentType,
  deepJson,
  encode,
  formBody,
  jsonValue,
  junkAuthorization,
  junkHeaders,
  junkJsonText,
  junkQuery,
  nastyString,
  pathSegment,
  rawFormFragment,
  tamper,
} from './generators.js';
import type { WireRequest } from './http-client.js';
import { PROTOCOL } from './oracle.js';

/**
 * A fuzz model per route of lambdas/contracts/routes.ts: requests that the route must answer without writing anything, built from real
 * records where that is safe. A route without a model fails route-models.test.ts (and every fuzz test that meets it).
 */

/** One fuzzed request, before it is put on the wire. Path parameters are raw (already encoded) segments. */
export interface RouteRequest {
  readonly params?: Readonly<Record<string, string>> | undefined;
  readonly query?: string | undefined;
  readonly headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
  readonly contentType?: string | undefined;
  readonly body?: string | Buffer | undefined;
}

export interface RouteModel {
  /** Whether some generated requests deserve a 2xx: a read, a dry run, a token for valid credentials (a pure read here). */
  readonly mayAccept: boolean;
  /** Requests for this route that must change nothing in the table, whatever the answer. */
  readonly requests: (fx: Fixture) => fc.Arbitrary<RouteRequest>;
}

export const routeKey = (route: Pick<Route, 'method' | 'path'>): string => `${route.method} ${route.path}`;

export function paramNames(route: Route): string[] {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

/** Puts a fuzzed request on the wire; `extraHeaders` win (the admin token, or a wrong one). */
export function toWire(route: Route, rr: RouteRequest, extraHeaders: Readonly<Record<string, string>> = {}): WireRequest {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => rr.params?.[name] ?? 'gh_fuzz_nobody');
  const headers: Record<string, string | readonly string[]> = { ...(rr.headers ?? {}) };
  if (rr.contentType !== undefined) headers['content-type'] = rr.contentType;
  Object.assign(headers, extraHeaders);
  const body = rr.body === undefined ? undefined : typeof rr.body === 'string' ? Buffer.from(rr.body, 'utf8') : rr.body;
  return { method: route.method, path: rr.query ? `${path}?${rr.query}` : path, headers, body };
}

// ---------------------------------------------------------------------------------------------------------------------
// JSON bodies: a valid body, one mutation, then neutral noise (unknown members, layout, duplicate keys, deep nesting).

type Body = Record<string, unknown>;
type Mutation = (body: Body) => Body;

/** Stands for a deeply nested value; swapped for raw JSON text once the body is serialised. */
const DEEP = '@@fuzz-deep@@';

const identity: fc.Arbitrary<Mutation> = fc.constant((b: Body) => ({ ...b }));
const drop = (key: string): fc.Arbitrary<Mutation> =>
  fc.constant((b: Body) => {
    const copy = { ...b };
    delete copy[key];
    return copy;
  });
const put = (key: string, values: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> => values.map((v) => (b: Body) => ({ ...b, [key]: v }));

const anyObject = fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 3 });
const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(jsonValue, { maxLength: 3 }), anyObject);
const notArray = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), nastyString, anyObject);
const notObject = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), nastyString, fc.array(jsonValue, { maxLength: 3 }));
const notBoolean = fc.oneof(fc.integer(), fc.constant(null), nastyString, fc.constantFrom('true', 'false', 1, 0));
/** Text whose trimmed length exceeds `max`. */
const longerThan = (max: number) => fc.integer({ min: max + 1, max: max + 3000 }).map((n) => `L${'x'.repeat(n)}L`);
/** Text whose trimmed length stays under `min`. */
const shorterThan = (min: number) =>
  fc.string({ maxLength: min - 1 }).chain((s) => fc.constantFrom(s.trim().slice(0, min - 1), ` ${s.trim().slice(0, min - 1)}\t`));
const notIn = (allowed: readonly unknown[]) => nastyString.filter((s) => !allowed.includes(s));
const futureIso = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

/** Serialises mutated bodies with neutral noise; the mutation's value wins every duplicate key. */
function jsonBody(valid: fc.Arbitrary<Body>, mutation: fc.Arbitrary<Mutation>): fc.Arbitrary<string> {
  return fc
    .record({
      valid,
      mutate: mutation,
      extras: fc.array(
        fc.tuple(
          fc.string({ maxLength: 8 }).map((s) => `x_fuzz_${s}`),
          fc.oneof(jsonValue, fc.constant(DEEP)),
        ),
        { maxLength: 3 },
      ),
      layout: fc.constantFrom('plain', 'pretty', 'padded', 'duplicate'),
      depth: fc.integer({ min: 10, max: 8000 }),
      pick: fc.nat(),
    })
    .map(({ valid: v, mutate, extras, layout, depth, pick }) => {
      const body = { ...mutate(v), ...Object.fromEntries(extras) };
      let text = layout === 'pretty' ? JSON.stringify(body, null, 2) : JSON.stringify(body);
      if (layout === 'padded') text = ` \n\t${text}\r\n `;
      const keys = Object.keys(body);
      if (layout === 'duplicate' && keys.length > 0) {
        const key = keys[pick % keys.length]!;
        text = `{${JSON.stringify(key)}:${JSON.stringify(v[key] ?? 'duplicate')},${text.slice(1)}`;
      }
      return text.replaceAll(JSON.stringify(DEEP), deepJson(depth, pick % 2 === 0 ? 'array' : 'object'));
    });
}

/** A request with a JSON body: mostly application/json, sometimes not; sometimes no body or a junk one. */
function jsonRequest(
  body: fc.Arbitrary<string>,
  more: { params?: fc.Arbitrary<Record<string, string>>; headers?: fc.Arbitrary<Record<string, string | string[]>> } = {},
): fc.Arbitrary<RouteRequest> {
  return fc.record({
    params: more.params ?? fc.constant({}),
    query: fc.oneof({ arbitrary: fc.constant(''), weight: 4 }, { arbitrary: junkQuery, weight: 1 }),
    headers: fc.tuple(junkHeaders, more.headers ?? fc.constant({})).map(([a, b]) => ({ ...a, ...b })),
    contentType: contentType('application/json'),
    body: fc.oneof({ arbitrary: body, weight: 8 }, { arbitrary: junkJsonText, weight: 1 }, { arbitrary: fc.constant(undefined), weight: 1 }),
  });
}

// ---------------------------------------------------------------------------------------------------------------------
// RFC 7591 registration: every mutation below is refused by the schema, by register() before it writes, or by policy.

const TIERS = ['public', 'partner', 'internal'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];

function validRegistration(): Body {
  return {
    client_name: 'Fuzzed FX widget',
    tier: 'public',
    scope: 'reference-data:read',
    purpose: 'Show daily FX rates in our budgeting app',
    data_classes: ['public'],
    contacts: ['dev@fintech.example'],
    expires_at: futureIso(90),
  };
}

const registrationBreakers: fc.Arbitrary<Mutation> = fc.oneof(
  drop('client_name'),
  drop('scope'),
  drop('expires_at'),
  drop('contacts'),
  drop('data_classes'),
  drop('purpose'),
  put('client_name', fc.oneof(notString, fc.constantFrom('', '   ', '\t\n\u00a0'), longerThan(200))),
  put(
    'scope',
    fc.oneof(
      notString,
      fc.constantFrom(
        '',
        ' ',
        ' reference-data:read',
        'reference-data:read ',
        'a  b',
        'a"b',
        'a\\b',
        'réf',
        'gold:mine',
        'accounts:read',
        'reference-data:read payments:initiate',
        'tokens:introspect',
      ),
      longerThan(2000),
    ),
  ),
  put('tier', fc.oneof(notString, notIn(TIERS), fc.constant('partner'), fc.constant('internal'))),
  put('purpose', fc.oneof(notString, longerThan(2000), fc.constantFrom('', 'short', '   padded   '))),
  put(
    'data_classes',
    fc.oneof(
      notArray,
      fc.constantFrom(
        [''],
        ['gold'],
        ['payment'],
        ['public', 'payment'],
        [],
        Array.from({ length: 21 }, () => 'public'),
        ['d'.repeat(101)],
      ),
    ),
  ),
  put('expires_at', fc.oneof(notString, nastyString, fc.constantFrom('2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '2026-13-45T99:99:99Z', 'next year'))),
  put(
    'contacts',
    fc.oneof(
      notArray,
      fc.constant([]),
      fc.array(
        nastyString.filter((s) => !s.includes('@')),
        { minLength: 1, maxLength: 3 },
      ),
      fc.constant(Array.from({ length: 21 }, (_, i) => `c${i}@x.example`)),
    ),
  ),
  put(
    'token_endpoint_auth_method',
    fc.oneof(notString, notIn(AUTH_METHODS), fc.constantFrom('private_key_jwt', 'none', 'client_secret_jwt', 'tls_client_auth')),
  ),
  put('grant_types', fc.oneof(notArray, fc.constantFrom([], ['authorization_code'], ['client_credentials', 'refresh_token'], [null]))),
  put('response_types', fc.oneof(notArray, fc.constantFrom(['code'], ['token', 'id_token']))),
  put('redirect_uris', fc.oneof(notArray, fc.constantFrom(['https://app.example/cb'], ['javascript:alert(1)']))),
  put(
    'jwks',
    fc.oneof(
      notObject,
      fc.constantFrom<unknown>(
        {},
        { keys: [] },
        { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'private' }] },
        { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
        { keys: [{ kty: 'EC', x: DEEP }] },
        { keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', oth: [{ r: 'x' }] }] },
        { keys: Array.from({ length: 11 }, () => ({ kty: 'EC' })) },
        { keys: 'all of them' },
      ),
    ),
  ),
  put('jwks_uri', fc.oneof(nastyString, fc.constant('https://keys.example/jwks.json'), fc.constant(null))),
  put(
    'software_statement',
    fc.oneof(
      notString,
      fc.constant(''),
      nastyString.filter((s) => s.length > 0),
      fc.constantFrom('eyJhbGciOiJub25lIn0.eyJ0aWVyIjoicGFydG5lciJ9.', 'a.b.c'),
      longerThan(8192),
    ),
  ),
  put('software_id', fc.oneof(notString, fc.constant(''), longerThan(200))),
  put('client_uri', fc.oneof(notString, fc.constantFrom('not a url', '', '://x', 'http//x'))),
  put('dpop_bound_access_tokens', notBoolean),
);

const idempotencyKey = fc
  .oneof(fc.uuid(), fc.constantFrom('short', 'has spaces in it, and is long enough', 'x'.repeat(256), 'ключ-идемпотентности-0001'), nastyString)
  .map(asHeaderValue);

// ---------------------------------------------------------------------------------------------------------------------
// OAuth endpoints: form bodies mixing real and fake credentials, in combinations that can only read.

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Form-urlencoding of a Basic credential part (RFC 6749 §2.3.1). */
const formPart = (s: string) => encode(s).replace(/%20/g, '+');

type Pair = readonly [string, string] | { readonly raw: string };

/** An optional form parameter: present with probability `percent`. */
function sometimes(percent: number, name: string, values: fc.Arbitrary<string>): fc.Arbitrary<Pair[]> {
  return chance(percent).chain((present) => (present ? values.map((v): Pair[] => [[name, v]]) : fc.constant<Pair[]>([])));
}

/** True with probability `percent` (fc.integer is biased towards its bounds, so it would not do). */
function chance(percent: number): fc.Arbitrary<boolean> {
  const yes = { arbitrary: fc.constant(true), weight: percent };
  const no = { arbitrary: fc.constant(false), weight: 100 - percent };
  return percent <= 0 ? fc.constant(false) : percent >= 100 ? fc.constant(true) : fc.oneof(yes, no);
}

function oauthRequests(fx: Fixture, endpoint: 'token' | 'introspect' | 'revoke'): fc.Arbitrary<RouteRequest> {
  const ids = fc.oneof(fc.constantFrom(fx.basic.clientId, fx.keyBound.clientId, fx.introspector.clientId, 'gh_nobody', ''), nastyString);
  const wrongSecrets = fc.oneof(
    nastyString,
    fc.constantFrom(`${fx.basic.secret}x`, fx.basic.secret!.slice(1), fx.basic.secret!.toUpperCase(), fx.introspector.secret!.slice(0, -1)),
  );
  // The real pairs allowed here: a token is a pure read for pre-warmed clients; introspection reads; revocation is
  // given only `basic`'s credentials and never `basic`'s own token, so it can only refuse or ignore.
  const realPairs: [string, string][] =
    endpoint === 'revoke'
      ? [[fx.basic.clientId, fx.basic.secret!]]
      : [
          [fx.basic.clientId, fx.basic.secret!],
          [fx.introspector.clientId, fx.introspector.secret!],
        ];
  const basicAuth = fc.oneof(
    { arbitrary: fc.constantFrom(...realPairs).map(([id, secret]) => `Basic ${b64(`${formPart(id)}:${formPart(secret)}`)}`), weight: 5 },
    { arbitrary: fc.tuple(ids, wrongSecrets).map(([id, secret]) => `Basic ${b64(`${formPart(id)}:${formPart(secret)}`)}`), weight: 2 },
    { arbitrary: fc.tuple(ids, wrongSecrets).map(([id, secret]) => `Basic ${b64(`${id}:${secret}`)}`), weight: 1 },
    { arbitrary: fc.constantFrom(...realPairs).map(([id, secret]) => `Basic ${b64(`${id}%zz:${secret}`)}`), weight: 1 },
  );
  const assertions = fc.oneof(fc.constantFrom(...fx.refusedAssertions), nastyString, fc.constantFrom('a.b.c', 'eyJhbGciOiJFUzI1NiJ9.e30.', '..'));
  const assertionType = fc.oneof({ arbitrary: fc.constant(CLIENT_ASSERTION_TYPE), weight: 4 }, { arbitrary: nastyString, weight: 1 });
  // Real secrets in the body are safe: both real clients registered client_secret_basic, so a post is refused.
  const postedSecrets = fc.oneof(fc.constantFrom(fx.basic.secret!, fx.introspector.secret!), wrongSecrets);

  // How the client authenticates: one method as a client would, or a random mixture.
  const credentials: fc.Arbitrary<{ authorization: string | undefined; pairs: Pair[] }> = fc.oneof(
    { arbitrary: fc.tuple(basicAuth, sometimes(10, 'client_id', ids)).map(([authorization, pairs]) => ({ authorization, pairs })), weight: 4 },
    {
      arbitrary: fc.tuple(ids, postedSecrets).map(([id, secret]) => ({
        authorization: undefined,
        pairs: [
          ['client_id', id],
          ['client_secret', secret],
        ] as Pair[],
      })),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(assertions, assertionType, sometimes(30, 'client_id', ids))
        .map(([a, t, more]) => ({ authorization: undefined, pairs: [['client_assertion', a], ['client_assertion_type', t], ...more] as Pair[] })),
      weight: 2,
    },
    { arbitrary: fc.constant({ authorization: undefined, pairs: [] as Pair[] }), weight: 1 },
    {
      arbitrary: fc
        .tuple(
          fc.option(fc.oneof(basicAuth, junkAuthorization), { nil: undefined }),
          sometimes(50, 'client_id', ids),
          sometimes(50, 'client_secret', postedSecrets),
          sometimes(40, 'client_assertion', assertions),
          sometimes(40, 'client_assertion_type', assertionType),
        )
        .map(([authorization, ...parts]) => ({ authorization, pairs: parts.flat() })),
      weight: 2,
    },
  );

  const tokens =
    endpoint === 'revoke'
      ? fc.oneof(fc.constantFrom(fx.tokens.introspector, tamper(fx.tokens.basic), tamper(fx.tokens.introspector), fx.refusedAssertions[0]!), nastyString)
      : fc.oneof(fc.constantFrom(fx.tokens.basic, fx.tokens.introspector, tamper(fx.tokens.basic), fx.refusedAssertions[0]!), nastyString);
  const grantTypes = fc.oneof(
    { arbitrary: fc.constant('client_credentials'), weight: 6 },
    { arbitrary: fc.constantFrom('authorization_code', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer', ''), weight: 1 },
    { arbitrary: nastyString, weight: 1 },
  );
  const scopes = fc.oneof(
    fc.constantFrom(
      'reference-data:read',
      'tokens:introspect',
      'accounts:read',
      'reference-data:read accounts:read',
      '',
      ' ',
      'reference-data:read  reference-data:read',
    ),
    nastyString,
  );
  const knownParam = fc.oneof(
    fc.tuple(fc.constant('grant_type'), grantTypes),
    fc.tuple(fc.constant('scope'), scopes),
    fc.tuple(fc.constant('client_id'), ids),
    fc.tuple(fc.constant('token'), tokens),
    fc.tuple(fc.constant('token_type_hint'), nastyString),
  );
  // Noise after the real parameters: unknown ones, raw fragments, now and then a repeated known one (RFC 6749 §3.2).
  const noise = fc
    .tuple(
      chance(30),
      fc.array(
        fc.oneof(
          {
            arbitrary: fc.tuple(
              nastyString.filter((x) => x.length < 100),
              nastyString,
            ),
            weight: 3,
          },
          { arbitrary: rawFormFragment, weight: 2 },
          { arbitrary: knownParam, weight: 1 },
        ),
        { minLength: 1, maxLength: 2 },
      ),
    )
    .map(([present, n]) => (present ? n : []));
  const form = fc
    .tuple(
      credentials,
      sometimes(endpoint === 'token' ? 95 : 20, 'grant_type', grantTypes),
      sometimes(endpoint === 'token' ? 50 : 15, 'scope', scopes),
      sometimes(endpoint === 'token' ? 10 : 90, 'token', tokens),
      sometimes(endpoint === 'token' ? 5 : 30, 'token_type_hint', fc.oneof(fc.constantFrom('access_token', 'refresh_token', 'id_token'), nastyString)),
      noise,
      fc.nat(),
    )
    .map(([cred, ...rest]) => {
      const pick = rest.pop() as number;
      const pairs = [...cred.pairs, ...(rest as Pair[][]).flat()];
      // Parameter order must not matter: rotate the list.
      const k = pairs.length ? pick % pairs.length : 0;
      return { authorization: cred.authorization, body: formBody([...pairs.slice(k), ...pairs.slice(0, k)]) };
    });
  const dpop =
    endpoint === 'token'
      ? fc.oneof(
          { arbitrary: fc.constant(undefined), weight: 3 },
          {
            arbitrary: fc.oneof(
              fc.constantFrom(...fx.refusedDpopProofs),
              fc.array(fc.constantFrom(...fx.refusedDpopProofs), { minLength: 2, maxLength: 2 }),
              nastyString.map(asHeaderValue),
            ),
            weight: 1,
          },
        )
      : fc.constant(undefined);

  return fc
    .record({
      query: fc.oneof({ arbitrary: fc.constant(''), weight: 6 }, { arbitrary: junkQuery, weight: 1 }),
      junk: junkHeaders,
      form,
      dpop,
      contentType: contentType('application/x-www-form-urlencoded'),
      bodyKind: fc.oneof(
        { arbitrary: fc.constant('form' as const), weight: 20 },
        { arbitrary: junkJsonText, weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
    })
    .map(({ query, junk, form: f, dpop: proof, contentType: ct, bodyKind }) => ({
      query,
      headers: { ...junk, ...(f.authorization !== undefined ? { authorization: f.authorization } : {}), ...(proof !== undefined ? { dpop: proof } : {}) },
      contentType: ct,
      body: bodyKind === 'form' ? f.body : bodyKind,
    }));
}

// ---------------------------------------------------------------------------------------------------------------------
// Reviews: real review id and link token, but never all of what a decision needs at once.

function reviewParams(fx: Fixture): fc.Arbitrary<Record<string, string>> {
  const real = fx.review ? [encodeURIComponent(fx.review.reviewId)] : [];
  return fc.oneof(...real.map((id) => ({ arbitrary: fc.constant(id), weight: 3 })), { arbitrary: pathSegment, weight: 1 }).map((id) => ({ review_id: id }));
}

function linkTokens(fx: Fixture): fc.Arbitrary<string> {
  const real = fx.review ? [fx.review.token, tamper(fx.review.token), `${fx.review.token}x`] : [];
  return fc.oneof(
    ...(real.length ? [{ arbitrary: fc.constantFrom(...real), weight: 4 }] : []),
    { arbitrary: fc.constant(fx.tokens.basic), weight: 1 },
    { arbitrary: nastyString, weight: 2 },
  );
}

function reviewGet(fx: Fixture): fc.Arbitrary<RouteRequest> {
  const t = linkTokens(fx);
  return fc.record({
    params: reviewParams(fx),
    query: fc.oneof(
      t.map((v) => `t=${encode(v)}`),
      fc.tuple(t, t).map(([a, b]) => `t=${encode(a)}&t=${encode(b)}`),
      junkQuery,
    ),
    headers: junkHeaders,
  });
}

/** Whether a POST could record a decision: the handler's own checks, over-approximated (then it is not generated). */
function couldDecide(fx: Fixture, origin: string, rr: RouteRequest): boolean {
  if (!fx.review) return false;
  let id: string;
  try {
    id = decodeURIComponent(rr.params?.['review_id'] ?? '');
  } catch {
    return false;
  }
  const form = new URLSearchParams(typeof rr.body === 'string' ? rr.body : (rr.body?.toString('utf8') ?? ''));
  const cookie = String(rr.headers?.['cookie'] ?? '');
  const csrf = form.get('csrf') ?? '';
  const decision = form.get('decision');
  return (
    id === fx.review.reviewId &&
    (rr.contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded' &&
    (rr.headers?.['origin'] === undefined || rr.headers['origin'] === origin) &&
    csrf.length > 0 &&
    cookie.includes(csrf) &&
    (form.get('t') ?? '') === fx.review.token &&
    (decision === 'approve' || (decision === 'deny' && (form.get('comment') ?? '').trim().length > 0))
  );
}

function reviewPost(fx: Fixture): fc.Arbitrary<RouteRequest> {
  const origin = fx.plane.url;
  const csrfValue = fc.oneof(
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/), weight: 4 },
    { arbitrary: nastyString.filter((s) => s.length > 0 && s.length < 200), weight: 1 },
  );
  // The page's own submission has a matching cookie and form field and no foreign Origin; the fuzzer mostly keeps those
  // and breaks the rest (the token, the decision, the comment), else it breaks them too.
  const csrf = fc.record({
    value: csrfValue,
    cookie: fc.oneof({ arbitrary: fc.constant('same'), weight: 8 }, { arbitrary: fc.constantFrom('other', 'none', 'empty', 'twice'), weight: 2 }),
    field: fc.oneof({ arbitrary: fc.constant('same'), weight: 8 }, { arbitrary: fc.constantFrom('none', 'empty'), weight: 1 }),
  });
  const originHeader = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constant(origin), weight: 3 },
    { arbitrary: fc.oneof(fc.constantFrom('https://evil.example', 'null', `${origin}/`, origin.toUpperCase()), nastyString.map(asHeaderValue)), weight: 2 },
  );
  const fields = fc.tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom('approve', 'deny'), weight: 3 },
      { arbitrary: fc.oneof(fc.constantFrom('APPROVE', 'maybe', ''), nastyString), weight: 1 },
    ),
    linkTokens(fx),
    fc.oneof(fc.constantFrom('', '   ', '\t\n', 'Looks right'), nastyString),
    fc.array(
      fc.oneof(
        fc.tuple(
          nastyString.filter((x) => x.length < 50),
          nastyString,
        ),
        rawFormFragment,
      ),
      { maxLength: 2 },
    ),
  );
  return fc
    .record({
      params: reviewParams(fx),
      query: fc.oneof({ arbitrary: fc.constant(''), weight: 4 }, { arbitrary: junkQuery, weight: 1 }),
      junk: junkHeaders,
      csrf,
      origin: originHeader,
      fields,
      contentType: contentType('application/x-www-form-urlencoded'),
      bodyKind: fc.oneof(
        { arbitrary: fc.constant('form' as const), weight: 10 },
        { arbitrary: junkJsonText, weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
    })
    .map(({ params, query, junk, csrf: c, origin: o, fields: [decision, t, comment, noise], contentType: ct, bodyKind }): RouteRequest => {
      const cookie = { same: `gh_csrf=${c.value}`, other: 'gh_csrf=someone-elses', none: undefined, empty: 'gh_csrf=', twice: `gh_csrf=x; gh_csrf=${c.value}` }[
        c.cookie
      ];
      const csrfField: Pair[] = c.field === 'same' ? [['csrf', c.value]] : c.field === 'empty' ? [['csrf', '']] : [];
      const pairs: Pair[] = [['decision', decision], ['t', t], ...csrfField, ['comment', comment], ...noise];
      const headers: Record<string, string | readonly string[]> = { ...junk };
      delete headers['origin'];
      delete headers['cookie'];
      return {
        params,
        query,
        headers: { ...headers, ...(o !== undefined ? { origin: o } : {}), ...(cookie !== undefined ? { cookie: asHeaderValue(cookie) } : {}) },
        contentType: ct,
        body: bodyKind === 'form' ? formBody(pairs) : bodyKind,
      };
    })
    .filter((rr) => !couldDecide(fx, origin, rr));
}

// ---------------------------------------------------------------------------------------------------------------------
// Admin: bad queries and bodies; real consumer ids only with a body the schema refuses.

const numberish = fc.oneof(
  fc.integer({ min: -10, max: 2000 }).map(String),
  fc.constantFrom('', ' 5', '1.5', '1e3', '0x10', 'NaN', 'Infinity', '-0', '99999999999999999999', 'ten'),
  nastyString,
);

function queryOf(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.record(fields, { requiredKeys: [] }).map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encode(v ?? '')}`)
        .join('&'),
    ),
    junkQuery,
  );
}

function realIds(fx: Fixture): fc.Arbitrary<string> {
  return fc.constantFrom(fx.basic.clientId, fx.keyBound.clientId, fx.introspector.clientId, ...(fx.review ? [fx.review.clientId] : []));
}

/** An Authorization header that never opens a registration: a mangled token, another credential, junk or none. */
function staleRegistrationBearer(fx: Fixture): fc.Arbitrary<Record<string, string>> {
  const clients = [fx.basic, fx.keyBound, fx.introspector];
  return fc
    .option(
      fc.oneof(
        fc.constantFrom(...clients).map((c) => `Bearer ${c.registrationToken.slice(1)}`),
        fc.constant(`Bearer ${fx.tokens.basic}`),
        fc.constant(`Basic ${b64(`${fx.basic.clientId}:${fx.basic.secret}`)}`),
        junkAuthorization,
      ),
      { nil: undefined },
    )
    .map((a): Record<string, string> => (a === undefined ? {} : { authorization: a }));
}

function clientIdParam(fx: Fixture, includeReal: boolean, segment: fc.Arbitrary<string> = pathSegment): fc.Arbitrary<Record<string, string>> {
  return (includeReal ? fc.oneof(realIds(fx).map(encodeURIComponent), segment) : segment).map((id) => ({ client_id: id }));
}

const reasonBreakers: fc.Arbitrary<Mutation> = fc.oneof(drop('reason'), put('reason', fc.oneof(notString, shorterThan(3), longerThan(500))));
const validReason = fc.constant<Body>({ reason: 'Fuzzing the admin API' });

/** suspend, terminate, rotate-secret, reinstate: any body for an unknown consumer, a refused body for a real one. */
function reasonRoute(fx: Fixture): fc.Arbitrary<RouteRequest> {
  return fc.oneof(
    jsonRequest(jsonBody(validReason, fc.oneof(identity, reasonBreakers)), { params: clientIdParam(fx, false) }),
    jsonRequest(jsonBody(validReason, reasonBreakers), { params: clientIdParam(fx, true) }),
  );
}

/**
 * The resend of review links takes no body: unknown consumers, and unknown requests of real ones (a real pending review
 * would renew its links and send mail, which the table-unchanged oracle rightly refuses).
 */
function reviewLinksRoute(withRequest: boolean): (fx: Fixture) => fc.Arbitrary<RouteRequest> {
  return (fx) =>
    jsonRequest(jsonBody(fc.constant<Body>({}), identity), {
      params: withRequest
        ? fc.tuple(clientIdParam(fx, true), pathSegment).map(([params, requestId]) => ({ ...params, request_id: requestId }))
        : clientIdParam(fx, false),
    });
}

const EXCEPTION_RULES = ['auth_method', 'sender_constraint', 'dormancy_days', 'access_token_ttl_seconds'];

const exceptionBreakers: fc.Arbitrary<Mutation> = fc.oneof(
  drop('client_id'),
  drop('rule'),
  drop('value'),
  drop('justification'),
  drop('expires_at'),
  put('client_id', fc.oneof(notString, fc.constant(''), longerThan(200))),
  put('rule', fc.oneof(notString, notIn(EXCEPTION_RULES))),
  put('value', fc.oneof(fc.constantFrom(1.5, -0.5, null, true, {}, [], 'client_secret_jwt', '120'), notIn([...AUTH_METHODS, 'none']))),
  put('justification', fc.oneof(notString, shorterThan(20), longerThan(2000))),
  put('expires_at', fc.oneof(notString, nastyString, fc.constantFrom('2026-13-45T00:00:00Z', 'tomorrow', '2030-01-01'))),
  put('x_unknown_member', jsonValue),
);

function exceptionsPost(fx: Fixture): fc.Arbitrary<RouteRequest> {
  const valid = (clientId: fc.Arbitrary<string>) =>
    clientId.map((id) => ({
      client_id: id,
      rule: 'dormancy_days',
      value: 120,
      justification: 'Quarterly batch job: runs once every ninety days',
      expires_at: futureIso(30),
    }));
  return fc.oneof(
    jsonRequest(jsonBody(valid(fc.oneof(fc.constant('gh_fuzz_nobody'), nastyString)), fc.oneof(identity, exceptionBreakers))),
    jsonRequest(jsonBody(valid(realIds(fx)), exceptionBreakers)),
  );
}

function evaluateBody(): fc.Arbitrary<string> {
  const valid: Body = {
    tier: 'public',
    scope: 'reference-data:read',
    purpose: 'Show daily FX rates in our budgeting app',
    data_classes: ['public'],
    contacts: ['dev@fintech.example'],
    expires_at: futureIso(90),
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const keys = [...Object.keys(valid), 'assume_software_statement'];
  const anyMutation = fc.oneof(
    identity,
    registrationBreakers,
    fc.constantFrom(...keys).chain((k) => fc.oneof(drop(k), put(k, jsonValue))),
  );
  return jsonBody(fc.constant(valid), anyMutation);
}

// Attestation pages: the fixture has no attestation link, so nothing generated may succeed; a real review link (another
// typ and audience) and an access token stand in for the signed tokens that must still be refused.

function attestationTokens(fx: Fixture): fc.Arbitrary<string> {
  return fc.oneof(
    ...(fx.review ? [{ arbitrary: fc.constant(fx.review.token), weight: 2 }] : []),
    { arbitrary: fc.constant(fx.tokens.basic), weight: 1 },
    { arbitrary: nastyString, weight: 2 },
  );
}

function attestationGet(fx: Fixture): fc.Arbitrary<RouteRequest> {
  return fc.record({
    params: clientIdParam(fx, true),
    query: fc.oneof(
      attestationTokens(fx).map((v) => `t=${encode(v)}`),
      junkQuery,
    ),
    headers: junkHeaders,
  });
}

function attestationPost(fx: Fixture): fc.Arbitrary<RouteRequest> {
  const csrf = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
  return fc
    .record({
      params: clientIdParam(fx, true),
      contentType: fc.oneof(
        { arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 4 },
        { arbitrary: fc.constantFrom('application/json', 'text/plain'), weight: 1 },
      ),
      csrf,
      action: fc.oneof(fc.constantFrom('confirm', 'deregister', ''), nastyString),
      t: attestationTokens(fx),
      drop: fc.array(fc.oneof(fc.constantFrom('reference-data:read', 'tokens:introspect'), nastyString), { maxLength: 3 }),
      sure: fc.option(fc.oneof(fc.constant('yes'), nastyString), { nil: undefined }),
      headers: junkHeaders,
    })
    .map(({ params, contentType, csrf, action, t, drop, sure, headers }) => {
      const form = new URLSearchParams({ action, t, csrf });
      for (const d of drop) form.append('drop', d);
      if (sure !== undefined) form.set('sure', sure);
      return { params, contentType, headers: { ...headers, cookie: `gh_rcsrf=${csrf}` }, body: form.toString() };
    });
}

const getOnly = (build: (fx: Fixture) => { params?: fc.Arbitrary<Record<string, string>>; query?: fc.Arbitrary<string> }) => (fx: Fixture) => {
  const parts = build(fx);
  return fc.record({
    params: parts.params ?? fc.constant({}),
    query: parts.query ?? junkQuery,
    headers: junkHeaders,
    body: fc.option(junkJsonText, { nil: undefined }),
  });
};

// ---------------------------------------------------------------------------------------------------------------------

export const ROUTE_MODELS: Readonly<Record<string, RouteModel>> = {
  'POST /register': {
    mayAccept: false,
    requests: () =>
      jsonRequest(jsonBody(fc.constant(validRegistration()), registrationBreakers), {
        headers: fc.option(idempotencyKey, { nil: undefined }).map((k): Record<string, string> => (k ? { 'idempotency-key': k } : {})),
      }),
  },
  'GET /register/{client_id}': {
    mayAccept: true,
    requests: (fx) => {
      const clients = [fx.basic, fx.keyBound, fx.introspector];
      const bearer = fc.oneof(
        fc.constantFrom(...clients).map((c) => `Bearer ${c.registrationToken}`),
        fc.constantFrom(...clients).map((c) => `bearer  ${c.registrationToken} `),
        fc.constantFrom(...clients).map((c) => `Bearer ${c.registrationToken.slice(1)}`),
        fc.constant(`Bearer ${fx.tokens.basic}`),
        fc.constant(`Basic ${b64(`${fx.basic.clientId}:${fx.basic.secret}`)}`),
        junkAuthorization,
      );
      return fc.record({
        params: clientIdParam(fx, true),
        query: fc.oneof(fc.constant(''), junkQuery),
        headers: fc.tuple(junkHeaders, fc.option(bearer, { nil: undefined })).map(([j, a]) => ({ ...j, ...(a !== undefined ? { authorization: a } : {}) })),
      });
    },
  },
  // Update and delete change the registration when they succeed: the fuzzed requests never hold a valid token.
  'PUT /register/{client_id}': {
    mayAccept: false,
    requests: (fx) =>
      jsonRequest(jsonBody(fc.constant(validRegistration()), registrationBreakers), { params: clientIdParam(fx, true), headers: staleRegistrationBearer(fx) }),
  },
  'DELETE /register/{client_id}': {
    mayAccept: false,
    requests: (fx) =>
      fc.record({
        params: clientIdParam(fx, true),
        query: fc.oneof(fc.constant(''), junkQuery),
        headers: fc.tuple(junkHeaders, staleRegistrationBearer(fx)).map(([j, a]) => ({ ...j, ...a })),
      }),
  },
  'POST /oauth2/token': { mayAccept: true, requests: (fx) => oauthRequests(fx, 'token') },
  'POST /oauth2/introspect': { mayAccept: true, requests: (fx) => oauthRequests(fx, 'introspect') },
  'POST /oauth2/revoke': { mayAccept: true, requests: (fx) => oauthRequests(fx, 'revoke') },
  'GET /oauth2/revocations': { mayAccept: true, requests: getOnly(() => ({})) },
  'GET /reviews/{review_id}': { mayAccept: true, requests: reviewGet },
  'POST /reviews/{review_id}': { mayAccept: false, requests: reviewPost },
  'GET /recertifications/{client_id}': { mayAccept: false, requests: attestationGet },
  'POST /recertifications/{client_id}': { mayAccept: false, requests: attestationPost },
  'GET /.well-known/jwks.json': { mayAccept: true, requests: getOnly(() => ({})) },
  'GET /.well-known/oauth-authorization-server': { mayAccept: true, requests: getOnly(() => ({})) },
  'GET /openapi.json': { mayAccept: true, requests: getOnly(() => ({})) },
  'GET /admin/consumers': {
    mayAccept: true,
    requests: getOnly(() => ({
      query: queryOf({
        status: fc.oneof(fc.constantFrom('active', 'suspended', 'ACTIVE', 'pending_review,active'), nastyString),
        tier: fc.oneof(fc.constantFrom(...TIERS, 'vip'), nastyString),
        dormant_within_days: numberish,
        expiring_within_days: numberish,
        limit: numberish,
        cursor: fc.oneof(nastyString, fc.base64String({ maxLength: 200 }), longerThan(2000)),
      }),
    })),
  },
  'GET /admin/consumers/{client_id}': { mayAccept: true, requests: getOnly((fx) => ({ params: clientIdParam(fx, true) })) },
  'GET /admin/consumers/{client_id}/evidence': { mayAccept: true, requests: getOnly((fx) => ({ params: clientIdParam(fx, true) })) },
  'POST /admin/consumers/{client_id}/suspend': { mayAccept: false, requests: reasonRoute },
  'POST /admin/consumers/{client_id}/terminate': { mayAccept: false, requests: reasonRoute },
  'POST /admin/consumers/{client_id}/rotate-secret': { mayAccept: false, requests: reasonRoute },
  'POST /admin/consumers/{client_id}/reinstate': { mayAccept: false, requests: reasonRoute },
  'POST /admin/consumers/{client_id}/review-links': { mayAccept: false, requests: reviewLinksRoute(false) },
  'POST /admin/consumers/{client_id}/requests/{request_id}/review-links': { mayAccept: false, requests: reviewLinksRoute(true) },
  'POST /admin/exceptions': { mayAccept: false, requests: exceptionsPost },
  'GET /admin/exceptions': {
    mayAccept: true,
    requests: getOnly((fx) => ({
      query: queryOf({
        client_id: fc.oneof(realIds(fx), nastyString, longerThan(200)),
        status: fc.oneof(fc.constantFrom('pending_review', 'active', 'expired', 'denied', 'failed', 'withdrawn', 'Active', 'all'), nastyString),
        limit: numberish,
        cursor: fc.oneof(nastyString, fc.base64String({ maxLength: 200 }), longerThan(2000)),
      }),
    })),
  },
  'POST /admin/policy/evaluate': { mayAccept: true, requests: () => jsonRequest(evaluateBody()) },
  'GET /admin/recertifications': {
    mayAccept: true,
    requests: getOnly(() => ({
      query: queryOf({
        within_days: numberish,
        limit: numberish,
        cursor: fc.oneof(nastyString, fc.base64String({ maxLength: 200 }), longerThan(2000)),
      }),
    })),
  },
};

/** The model of `route`; throws (failing the test that asked) when the route has none. */
export function modelFor(route: Route): RouteModel {
  const model = ROUTE_MODELS[routeKey(route)];
  if (!model) throw new Error(`No fuzz model for ${routeKey(route)}: add one to test/integration/fuzz/route-models.ts.`);
  return model;
}

/** Requests no model knows about: random path parameters, queries, headers, content types and bodies. */
export function junkRequest(route: Route): fc.Arbitrary<RouteRequest> {
  const preferred = PROTOCOL[route.handler] === 'oauth' || PROTOCOL[route.handler] === 'html' ? 'application/x-www-form-urlencoded' : 'application/json';
  const junkForm = fc
    .array(fc.oneof(fc.tuple(nastyString, nastyString), rawFormFragment), { maxLength: 6 })
    .map((p) => formBody(p as (readonly [string, string] | { raw: string })[]));
  return fc.record({
    params: fc.record(Object.fromEntries(paramNames(route).map((n) => [n, pathSegment]))) as fc.Arbitrary<Record<string, string>>,
    query: junkQuery,
    headers: junkHeaders,
    contentType: contentType(preferred),
    body: fc.option(fc.oneof(junkJsonText, junkForm), { nil: undefined }),
  });
}
