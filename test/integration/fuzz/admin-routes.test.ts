import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes.js';
import { startFixture, stopFixture, type Fixture } from './fixture.js';
import { b64, junkAuthorization } from './generators.js';
import { fuzzRoute } from './harness.js';
import { isProblem } from './oracle.js';
import { junkRequest, modelFor, routeKey } from './route-models.js';

/**
 * Every IAM (admin) route of lambdas/contracts/routes.ts, fuzzed twice: without the admin token (always 401 problem JSON before any
 * handler runs) and with it (bad queries, bodies and path parameters: 4xx problem JSON, or 2xx for reads and dry runs).
 * Runs per route: UNAUTHENTICATED_RUNS + AUTHENTICATED_RUNS. FUZZ_SEED replays, FUZZ_SCALE multiplies.
 */
const UNAUTHENTICATED_RUNS = 15;
const AUTHENTICATED_RUNS = 50;

const ADMIN = ROUTES.filter((r) => r.auth === 'iam').map((r) => [routeKey(r), r] as const);

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await stopFixture(fx);
});

/** Authorization values that are not the admin token (near misses included); none means no header. */
function wrongAdminAuth(token: string): fc.Arbitrary<Record<string, string>> {
  return fc
    .option(
      fc.oneof(
        junkAuthorization,
        fc.constantFrom(
          `Bearer ${token.slice(1)}`,
          `Bearer ${token}x`,
          `Bearer ${token.slice(0, -1)}`,
          `Basic ${b64(`admin:${token}`)}`,
          `Token ${token}`,
          `Bearer${token}`,
          token,
          `Bearer ${token.toUpperCase()}`,
          `Bearer "${token}"`,
        ),
      ),
      { nil: undefined },
    )
    .map((auth): Record<string, string> => (auth === undefined ? {} : { authorization: auth }));
}

describe('admin routes under fuzzing', () => {
  it.each(ADMIN)('%s refuses every request without the admin token: 401 problem JSON, nothing written', async (_key, route) => {
    await fuzzRoute(fx, route, fc.oneof(modelFor(route).requests(fx), junkRequest(route)), UNAUTHENTICATED_RUNS, {
      extraHeaders: wrongAdminAuth(fx.plane.adminToken),
      check: (wire, res) => {
        const what = `${wire.method} ${wire.path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 200)}`;
        // Before authentication come the server's own refusals, also problem JSON: headers or URL over its limit, and a
        // path that names no route, or another one, once dot segments are resolved (`/admin/consumers/./suspend` is
        // `GET /admin/consumers/{client_id}`: 405 for a POST).
        if ([404, 405, 431].includes(res.status)) return void expect(isProblem(res), what).toBe(true);
        expect(res.status, what).toBe(401);
        expect(isProblem(res), what).toBe(true);
        expect(res.headers['www-authenticate'], what).toBe('Bearer realm="gatehouse-admin"');
        expect(res.text.includes(fx.plane.adminToken), what).toBe(false);
      },
    });
  });

  it.each(ADMIN)('%s answers bad requests with the admin token in problem JSON, never a 5xx, nothing written', async (_key, route) => {
    await fuzzRoute(
      fx,
      route,
      fc.oneof({ arbitrary: modelFor(route).requests(fx), weight: 3 }, { arbitrary: junkRequest(route), weight: 1 }),
      AUTHENTICATED_RUNS,
      {
        extraHeaders: fc.constant({ authorization: `Bearer ${fx.plane.adminToken}` }),
      },
    );
  });
});
