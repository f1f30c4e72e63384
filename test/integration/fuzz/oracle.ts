import type fc from 'fast-check';
import { expect } from 'vitest';
import type { HttpHandlerName, Route } from '../../../lambdas/contracts/routes.js';
import type { WireRequest, WireResponse } from './http-client.js';

/**
 * What a fuzzed request may get back: never a 5xx, never a stack trace or a secret, and every refusal in the format of
 * the route's protocol.
 */

/** The error format each handler speaks (a new handler name fails to compile here until it is given one). */
export type Protocol = 'rfc7591' | 'rfc7592' | 'oauth' | 'html' | 'problem';
export const PROTOCOL: Readonly<Record<HttpHandlerName, Protocol>> = {
  register: 'rfc7591',
  'registration-read': 'rfc7592',
  'registration-manage': 'rfc7592',
  token: 'oauth',
  introspection: 'oauth',
  revocation: 'oauth',
  'revocation-list': 'problem',
  review: 'html',
  recertification: 'html',
  discovery: 'problem',
  admin: 'problem',
  'review-links': 'problem',
};

/** RFC 7591 §3.2.2 codes, the Idempotency-Key conflicts, and the policy's `access_denied`. */
const RFC7591_ERRORS = [
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'idempotency_key_reused',
  'idempotency_key_invalid',
  'update_conflict',
  'access_denied',
];
/** RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 9449 §7 error codes. */
const OAUTH_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_token',
  'unsupported_token_type',
  'invalid_dpop_proof',
];
/** Refusals of the HTTP layer itself (no route, wrong method, too large): problem JSON outside registration and OAuth. */
const TRANSPORT_STATUSES = [404, 405, 413, 431];
/** What the server answers before it knows the route (unparsable HTTP, oversized headers): problem JSON on every route. */
const PRE_ROUTING_STATUSES = [400, 408, 417, 431];
/** RFC 7591 JSON codes for the edge's refusals on registration routes (to-response.ts REGISTRATION_CODES). */
const REGISTRATION_TRANSPORT_ERRORS = ['invalid_client_metadata', 'invalid_request'];

/** A Node/V8 stack frame, a source location or an internal path: none may leak into an answer. */
const STACK_TRACE = /\bat [\w$.<>[\] ]+ \(|\.ts:\d+:\d+|\.js:\d+:\d+|node_modules|node:internal/;

function mediaType(res: WireResponse): string {
  return String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

function jsonOf(res: WireResponse): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(res.text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 9457 problem JSON whose `status` is the response's. */
export function isProblem(res: WireResponse): boolean {
  const body = jsonOf(res);
  return (
    mediaType(res) === 'application/problem+json' &&
    body !== undefined &&
    typeof body['type'] === 'string' &&
    /^https:\/\//.test(body['type']) &&
    typeof body['title'] === 'string' &&
    body['title'].length > 0 &&
    body['status'] === res.status
  );
}

/**
 * An edge refusal (413, 405, 404) in the route's format: RFC 7591 JSON on registration routes, RFC 6749 JSON
 * (`invalid_request`, never cached) on the OAuth endpoints, problem JSON elsewhere.
 */
export function isEdgeRefusal(route: Route, res: WireResponse): boolean {
  const protocol = PROTOCOL[route.handler];
  if (protocol === 'rfc7591' || protocol === 'rfc7592') return isErrorJson(res, REGISTRATION_TRANSPORT_ERRORS, ASCII_DESCRIPTION);
  if (protocol === 'oauth') return isErrorJson(res, ['invalid_request'], OAUTH_DESCRIPTION) && res.headers['cache-control'] === 'no-store';
  return isProblem(res);
}

/** RFC 6749 §5.2 / RFC 6750 §3: the characters error_description may hold. */
const OAUTH_DESCRIPTION = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;
/** RFC 7591 §3.2.2: human-readable ASCII. */
const ASCII_DESCRIPTION = /^[\x20-\x7E]*$/;

function isErrorJson(res: WireResponse, codes: readonly string[], description: RegExp): boolean {
  const body = jsonOf(res);
  return (
    mediaType(res) === 'application/json' &&
    body !== undefined &&
    codes.includes(String(body['error'])) &&
    typeof body['error_description'] === 'string' &&
    description.test(body['error_description'])
  );
}

/** Whether the request, once its percent-encoding and Basic credentials are decoded, is printable ASCII without '?'. */
function printableAsciiWithoutQuestionMark(req: WireRequest): boolean {
  const percentDecoded = (text: string) => text.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const headers = Object.values(req.headers).flat();
  const basic = headers
    .map((v) => /^basic\s+(\S*)/i.exec(v)?.[1])
    .filter((v): v is string => v !== undefined)
    .map((v) => Buffer.from(v, 'base64').toString('latin1'));
  const text = [percentDecoded(req.path), ...headers, ...basic, percentDecoded(req.body?.toString('latin1') ?? '')].join('');
  return /^[\x20-\x3E\x40-\x7E\r\n\t]*$/.test(text);
}

function requestHeader(req: WireRequest, name: string): string | undefined {
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === name) return typeof v === 'string' ? v : v[0];
  return undefined;
}

/** Asserts the answer to a fuzzed request is acceptable for `route`. `mayAccept`: a 2xx can be right. */
export function expectProtocolAnswer(
  route: Route,
  req: WireRequest,
  res: WireResponse,
  options: { readonly mayAccept: boolean; readonly secrets: readonly string[] },
): void {
  const what = `${req.method} ${req.path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.status, what).toBeGreaterThanOrEqual(200);
  if (res.status < 400) {
    expect(options.mayAccept, `a 2xx where only a refusal is right: ${what}`).toBe(true);
    return;
  }
  expect(res.text, `stack trace in ${what}`).not.toMatch(STACK_TRACE);
  for (const secret of options.secrets) expect(res.text.includes(secret), `a secret in ${what}`).toBe(false);

  // RFC 9110 section 11.6.1: every 401 carries a challenge.
  if (res.status === 401) expect(String(res.headers['www-authenticate'] ?? ''), `401 without WWW-Authenticate: ${what}`).not.toBe('');
  // Descriptions are plain ASCII written as such: for a request in printable ASCII without '?', no '?' stands in for a character.
  const description = jsonOf(res)?.['error_description'];
  if (typeof description === 'string' && printableAsciiWithoutQuestionMark(req)) expect(description, `a '?' substitution in ${what}`).not.toContain('?');

  const protocol = PROTOCOL[route.handler];
  const transport = TRANSPORT_STATUSES.includes(res.status) && isProblem(res);
  const preRouting = PRE_ROUTING_STATUSES.includes(res.status) && isProblem(res);
  switch (protocol) {
    case 'problem':
      expect(isProblem(res), `not problem JSON: ${what}`).toBe(true);
      return;
    case 'rfc7591':
      // RFC 7591 section 3.2.2 on every 4xx the route's handler or its edge answers (a path whose dot segments lead out
      // of /register is no registration request: its 404 is problem JSON).
      if (preRouting || (res.status === 404 && isProblem(res))) return;
      expect(
        (isErrorJson(res, RFC7591_ERRORS, ASCII_DESCRIPTION) && [400, 403, 422].includes(res.status)) ||
          (isErrorJson(res, REGISTRATION_TRANSPORT_ERRORS, ASCII_DESCRIPTION) && [400, 404, 405, 413, 415].includes(res.status)),
        `not an RFC 7591 error: ${what}`,
      ).toBe(true);
      return;
    case 'rfc7592': {
      if (preRouting || (res.status === 404 && isProblem(res))) return;
      if ([404, 405, 413].includes(res.status)) {
        expect(isErrorJson(res, REGISTRATION_TRANSPORT_ERRORS, ASCII_DESCRIPTION), `not an RFC 7591 error: ${what}`).toBe(true);
        return;
      }
      expect(res.status, what).toBe(401);
      expect(isErrorJson(res, ['invalid_token'], OAUTH_DESCRIPTION), `not an RFC 6750 invalid_token: ${what}`).toBe(true);
      expect(String(res.headers['www-authenticate']), what).toMatch(/^Bearer /);
      return;
    }
    case 'oauth': {
      // Only what the server refuses before it knows the route is problem JSON; the edge's own refusals (no route under
      // /oauth2, wrong method, too large) are RFC 6749 errors like the handlers'.
      if ([408, 417, 431].includes(res.status) && isProblem(res)) return;
      expect(isErrorJson(res, OAUTH_ERRORS, OAUTH_DESCRIPTION), `not an RFC 6749 error: ${what}`).toBe(true);
      expect([400, 401, 404, 405, 413, 415], what).toContain(res.status);
      if (res.status >= 404) expect(jsonOf(res)!['error'], what).toBe('invalid_request');
      expect(res.headers['cache-control'], what).toBe('no-store');
      const error = String(jsonOf(res)!['error']);
      if (res.status === 401) expect(['invalid_client', 'invalid_token'], what).toContain(error);
      // RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a challenge for its scheme.
      if (error === 'invalid_client' && /^basic /i.test(requestHeader(req, 'authorization') ?? '')) {
        expect(res.status, what).toBe(401);
        expect(String(res.headers['www-authenticate']), what).toMatch(/^Basic /);
      }
      // A client that authenticated in the body (an assertion or a posted secret) is never challenged with Basic alone.
      if (
        error === 'invalid_client' &&
        requestHeader(req, 'authorization') === undefined &&
        /client_assertion=|client_secret=/.test(req.body?.toString('latin1') ?? '')
      ) {
        expect(String(res.headers['www-authenticate']), what).toMatch(/^(private_key_jwt|client_secret_post) /);
      }
      return;
    }
    case 'html': {
      if (transport) return;
      expect(mediaType(res), what).toBe('text/html');
      expect(res.text, what).toMatch(/<html|<!doctype html/i);
      expect(res.headers['x-frame-options'], what).toBe('DENY');
      expect(String(res.headers['content-security-policy']), what).toContain("default-src 'none'");
      return;
    }
  }
}

/** fast-check parameters: FUZZ_SEED replays a reported failure; FUZZ_SCALE multiplies the runs for a deeper session. */
export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env['FUZZ_SEED'];
  const scale = Number(process.env['FUZZ_SCALE'] ?? 1);
  return { numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1))), ...(seed ? { seed: Number(seed) } : {}) };
}

/** The seed every run replays, so a failure found once stays found; a fresh seed beside it explores further each run. */
export const FIXED_FUZZ_SEED = 20261206;

/**
 * The passes of one fuzzed property: half the runs with FIXED_FUZZ_SEED and half with a fresh seed (fast-check prints
 * the seed of a failing pass, which FUZZ_SEED then replays alone).
 */
export function fuzzPasses<T>(numRuns: number): fc.Parameters<T>[] {
  const all = fuzzParams<T>(numRuns);
  if (all.seed !== undefined) return [all];
  const runs = all.numRuns ?? numRuns;
  const fresh = Math.floor(Math.random() * 2 ** 31);
  return [
    { ...all, seed: FIXED_FUZZ_SEED, numRuns: Math.max(1, Math.ceil(runs / 2)) },
    { ...all, seed: fresh, numRuns: Math.max(1, Math.floor(runs / 2)) },
  ];
}
