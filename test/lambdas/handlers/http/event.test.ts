import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../../lambdas/handlers/http/errors.js';
import { bearerToken, bodyText, header, headerValues, jsonObjectBody, mediaType } from '../../../../lambdas/handlers/http/event.js';
import { httpEvent } from '../fixtures.js';

const post = (body: string | null, headers: Record<string, string> = {}, isBase64Encoded = false) =>
  httpEvent({ method: 'POST', resource: '/x', body, headers, isBase64Encoded });

describe('header', () => {
  it('finds a header whatever its casing', () => {
    const event = post(null, { 'Idempotency-KEY': 'k' });

    expect(header(event, 'idempotency-key')).toBe('k');
    expect(header(event, 'authorization')).toBeUndefined();
  });

  it('tells apart names of the same length and finds the first match in the order given', () => {
    const event = post(null, { 'content-types': 'no', 'Content-Typf': 'no', 'CONTENT-TYPE': 'first', 'content-type': 'second' });

    expect(header(event, 'Content-Type')).toBe('first');
    expect(header(event, 'content-typ')).toBeUndefined();
  });
});

describe('headerValues', () => {
  it('collects every value of a name sent under several casings, in order', () => {
    const event = { ...post(null), multiValueHeaders: { DPoP: ['a'], Accept: ['x'], dpop: ['b', 'c'] } };

    expect(headerValues(event, 'dpop')).toEqual(['a', 'b', 'c']);
  });

  it('splits a comma-joined single header when there are no multi-value headers', () => {
    const event = { ...post(null, { DPOP: ' a , b,,' }), multiValueHeaders: {} };

    expect(headerValues(event, 'dpop')).toEqual(['a', 'b']);
    expect(headerValues(event, 'authorization')).toEqual([]);
  });
});

describe('mediaType', () => {
  it('drops parameters and lower-cases', () => {
    expect(mediaType(post(null, { 'content-type': 'Application/JSON ; charset=UTF-8' }))).toBe('application/json');
    expect(mediaType(post(null))).toBe('');
  });
});

describe('bodyText', () => {
  it('decodes a base64-encoded body', () => {
    expect(bodyText(post(Buffer.from('grant_type=x').toString('base64'), {}, true), 100)).toBe('grant_type=x');
  });

  it('counts bytes, not characters, against the limit', () => {
    const event = post('é'.repeat(6));

    expect(bodyText(event, 12)).toBe('é'.repeat(6));
    expect(() => bodyText(event, 11)).toThrow(HttpError);
  });

  it('treats a missing body as empty', () => {
    expect(bodyText(post(null), 0)).toBe('');
  });
});

describe('jsonObjectBody', () => {
  it('returns the parsed object and the raw text', () => {
    expect(jsonObjectBody(post('{"a":1}', { 'content-type': 'application/json' }), 100)).toEqual({ value: { a: 1 }, text: '{"a":1}' });
  });

  it.each([
    ['unsupported_media_type', post('{}', { 'content-type': 'text/plain' })],
    ['payload_too_large', post(`{"a":"${'x'.repeat(100)}"}`, { 'content-type': 'application/json' })],
    ['malformed_body', post('{', { 'content-type': 'application/json' })],
    ['malformed_body', post('"string"', { 'content-type': 'application/json' })],
  ])('refuses with %s', (code, event) => {
    expect(() => jsonObjectBody(event, 50)).toThrow(expect.objectContaining({ name: 'HttpError', code }));
  });
});

describe('bearerToken', () => {
  it('takes the token of a Bearer value, whatever the scheme case, and nothing else', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('BEARER abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearerabc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
