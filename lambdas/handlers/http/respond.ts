import type { APIGatewayProxyResult } from 'aws-lambda';

/** Headers every response carries: nothing here may be cached or sniffed. */
const BASE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
} as const;

/** A response without a body (204), with the headers every response carries. */
export function noContent(): APIGatewayProxyResult {
  return { statusCode: 204, headers: { ...BASE_HEADERS }, body: '' };
}

export function json(statusCode: number, body: unknown, headers?: Record<string, string>): APIGatewayProxyResult {
  // Spelled out when nothing is added: the common answer then skips building an object by spreading.
  const all =
    headers === undefined
      ? {
          'cache-control': BASE_HEADERS['cache-control'],
          pragma: BASE_HEADERS.pragma,
          'x-content-type-options': BASE_HEADERS['x-content-type-options'],
          'content-type': 'application/json',
        }
      : { ...BASE_HEADERS, 'content-type': 'application/json', ...headers };
  return { statusCode, headers: all, body: JSON.stringify(body) };
}

/** Publicly cacheable JSON (metadata, JWKS). */
export function publicJson(body: unknown, maxAgeSeconds: number): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'cache-control': `public, max-age=${maxAgeSeconds}`, 'x-content-type-options': 'nosniff' },
    body: JSON.stringify(body),
  };
}

/** An RFC 9457 problem document. */
export function problem(status: number, type: string, title: string, detail: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...BASE_HEADERS, 'content-type': 'application/problem+json', ...headers },
    body: JSON.stringify({ type: `https://gatehouse.dev/problems/${type}`, title, status, detail }),
  };
}
