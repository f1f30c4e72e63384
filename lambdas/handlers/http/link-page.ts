import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { header } from './event.js';

/**
 * An HTML page reached through a signed emailed link (review, attestation), hardened: never cached, never framed, no
 * script. The link token is in the URL: `strict-origin` sends at most the origin as Referer, never the path and token,
 * and (unlike `no-referrer`, under which browsers send `Origin: null`) keeps the real Origin on the page's own form POST.
 */
export function linkPage(statusCode: number, body: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'strict-origin',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
    body,
  };
}

/** A cookie of the request, by name. */
export function cookie(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const part of (header(event, 'cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** Whether two secrets (a CSRF cookie and its form field) are present and equal, compared in constant time. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
