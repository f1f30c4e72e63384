import type fc from 'fast-check';
import { expect } from 'vitest';
import type { HttpHandlerName, Route } from '../../../lib/routes.js';
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
  token: 'oauth',
  introspection: 'oauth',
  revocation: 'oauth',
  review: 'html',
  discovery: 'problem',
  admin: 'problem',
};

/** RFC 7591 §3.2.2 codes, the Idempotency-Key conflicts, and the policy's `access_denied`. */
const RFC7591_ERRORS = ['invalid_client_metadata', 'invalid_software_statement', 'unapproved_software_statement', 'idempotency_key_reused', 'idempotency_key_invalid', 'access_denied'];
/** RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1 and RFC 9449 §7 error codes. */
const OAUTH_ERRORS = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_token', 'unsupported_token_type', 'invalid_dpop_proof'];
/** Refusals of the HTTP layer itself (no route, wrong method, too large): problem JSON whatever the route's protocol. */
const TRANSPORT_STATUSES = [404, 405, 413, 431];

/** A Node/V8 stack frame, a source location or an internal path: none may leak into an answer. */
const STACK_TRACE = /\bat [\w$.<>[\] ]+ \(|\.ts:\d+:\d+|\.js:\d+:\d+|node_modules|node:internal/;

function mediaType(res: WireResponse): string {
  return String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
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

function requestHeader(req: WireRequest, name: string): string | undefined {
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === name) return typeof v === 'string' ? v : v[0];
  return undefined;
}

/** Asserts the answer to a fuzzed request is acceptable for `route`. `mayAccept`: a 2xx can be right. */
export function expectProtocolAnswer(route: Route, req: WireRequest, res: WireResponse, options: { readonly mayAccept: boolean; readonly secrets: readonly string[] }): void {
  const what = `${req.method} ${req.path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.status, what).toBeGreaterThanOrEqual(200);
  if (res.status < 400) {
    expect(options.mayAccept, `a 2xx where only a refusal is right: ${what}`).toBe(true);
    return;
  }
  expect(res.text, `stack trace in ${what}`).not.toMatch(STACK_TRACE);
  for (const secret of options.secrets) expect(res.text.includes(secret), `a secret in ${what}`).toBe(false);

  const protocol = PROTOCOL[route.handler];
  const transport = TRANSPORT_STATUSES.includes(res.status) && isProblem(res);
  switch (protocol) {
    case 'problem':
      expect(isProblem(res), `not problem JSON: ${what}`).toBe(true);
      return;
    case 'rfc7591':
      expect(isProblem(res) || (isErrorJson(res, RFC7591_ERRORS, ASCII_DESCRIPTION) && [400, 403, 422].includes(res.status)), `not an RFC 7591 error or problem JSON: ${what}`).toBe(true);
      return;
    case 'rfc7592': {
      if (transport) return;
      expect(res.status, what).toBe(401);
      expect(isErrorJson(res, ['invalid_token'], OAUTH_DESCRIPTION), `not an RFC 6750 invalid_token: ${what}`).toBe(true);
      expect(String(res.headers['www-authenticate']), what).toMatch(/^Bearer /);
      return;
    }
    case 'oauth': {
      if (transport) return;
      expect(isErrorJson(res, OAUTH_ERRORS, OAUTH_DESCRIPTION), `not an RFC 6749 error: ${what}`).toBe(true);
      expect([400, 401], what).toContain(res.status);
      expect(res.headers['cache-control'], what).toBe('no-store');
      const error = String(jsonOf(res)!['error']);
      if (res.status === 401) expect(['invalid_client', 'invalid_token'], what).toContain(error);
      // RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a challenge for its scheme.
      if (error === 'invalid_client' && /^basic /i.test(requestHeader(req, 'authorization') ?? '')) {
        expect(res.status, what).toBe(401);
        expect(String(res.headers['www-authenticate']), what).toMatch(/^Basic /);
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
