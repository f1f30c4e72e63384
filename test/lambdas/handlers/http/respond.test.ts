import { describe, expect, it } from 'vitest';
import { json } from '../../../../lambdas/handlers/http/respond.js';

describe('json', () => {
  it('answers with the headers every response carries and the JSON content type, in that order', () => {
    const response = json(200, { a: 1 });

    expect(response).toEqual({
      statusCode: 200,
      headers: { 'cache-control': 'no-store', pragma: 'no-cache', 'x-content-type-options': 'nosniff', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(Object.keys(response.headers!)).toEqual(['cache-control', 'pragma', 'x-content-type-options', 'content-type']);
  });

  it('adds the headers given after those, and lets them replace one', () => {
    const response = json(401, {}, { 'www-authenticate': 'Basic', 'cache-control': 'private' });

    expect(Object.entries(response.headers!)).toEqual([
      ['cache-control', 'private'],
      ['pragma', 'no-cache'],
      ['x-content-type-options', 'nosniff'],
      ['content-type', 'application/json'],
      ['www-authenticate', 'Basic'],
    ]);
  });
});
