import type { APIGatewayProxyEvent } from 'aws-lambda';
import { OAuthError } from '../../core/oauth/errors.js';
import { HttpError } from './errors.js';

/** The token of an `Authorization: Bearer <token>` value (RFC 6750 section 2.1, scheme case-insensitive), if that is what it is. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined;
}

/** A header's value, case-insensitively (API Gateway keeps the client's casing). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  // Lower-casing keeps the length of any name that becomes one of the ASCII names looked up here, so a key of another
  // length cannot match and is not lower-cased.
  for (const key in headers) {
    if (key.length !== lower.length || !Object.hasOwn(headers, key)) continue;
    const value = headers[key];
    if (value !== undefined && key.toLowerCase() === lower) return value;
  }
  return undefined;
}

/** Every value of a header (API Gateway's multiValueHeaders, or a comma-joined single value). */
export function headerValues(event: APIGatewayProxyEvent, name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  const multi = event.multiValueHeaders;
  if (multi) {
    for (const key in multi) {
      if (key.length !== lower.length || !Object.hasOwn(multi, key)) continue;
      const list = multi[key];
      if (list && key.toLowerCase() === lower) values.push(...list);
    }
  }
  if (values.length > 0) return values;
  const single = header(event, name);
  return single === undefined
    ? []
    : single
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
}

/** The request body as text, refusing bodies over `maxBytes` (the same limit in AWS and local mode). */
export function bodyText(event: APIGatewayProxyEvent, maxBytes: number): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) throw new HttpError('payload_too_large', `The request body exceeds ${maxBytes} bytes.`);
  return event.isBase64Encoded ? bytes.toString('utf8') : raw;
}

/** The media type of the request, without parameters. */
export function mediaType(event: APIGatewayProxyEvent): string {
  return (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parses a JSON object body; anything else is a malformed body. */
export function jsonObjectBody(event: APIGatewayProxyEvent, maxBytes: number): { value: Record<string, unknown>; text: string } {
  if (mediaType(event) !== 'application/json') throw new HttpError('unsupported_media_type', 'Send the request as application/json.');
  const text = bodyText(event, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new HttpError('malformed_body', 'The request body is not valid JSON.', { cause });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError('malformed_body', 'The request body must be a JSON object.');
  return { value: value as Record<string, unknown>, text };
}

/** Parses an OAuth form body (application/x-www-form-urlencoded); anything else is `invalid_request`. */
export function oauthForm(event: APIGatewayProxyEvent, maxBytes: number): URLSearchParams {
  if (mediaType(event) !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'Send the request as application/x-www-form-urlencoded.');
  }
  return new URLSearchParams(bodyText(event, maxBytes));
}
