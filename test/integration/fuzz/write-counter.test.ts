import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, publicRequest, tableSnapshot } from '../local-mode.js';
import { startFixture, stopFixture, type Fixture } from './fixture.js';

/**
 * The fuzzers scan the table only after a run during which the plane sent a write: this checks that the count they rely
 * on sees the writes of a real request, and stays still for one that writes nothing.
 */
let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await stopFixture(fx);
});

describe('fuzz fixture: writes sent to the table', () => {
  it('stays still for a token request of a client that has used its scope before, and the table is unchanged', async () => {
    const before = fx.writesSent();
    const basic = Buffer.from(`${encodeURIComponent(fx.basic.clientId)}:${encodeURIComponent(fx.basic.secret!)}`).toString('base64');
    const res = await fetch(`${fx.plane.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(200);
    expect(fx.writesSent()).toBe(before);
    expect(await tableSnapshot(fx.plane)).toEqual(fx.baseline);
  });

  it('counts the writes of a registration, which changes the table', async () => {
    const before = fx.writesSent();
    const res = await postJson(`${fx.plane.url}/register`, publicRequest({ client_name: 'Write counter check' }));
    expect(res.status).toBe(201);
    expect(fx.writesSent()).toBeGreaterThan(before);
    expect(await tableSnapshot(fx.plane)).not.toEqual(fx.baseline);
  });
});
