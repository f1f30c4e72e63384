import { afterAll, beforeAll, describe, it } from 'vitest';
import { ROUTES } from '../../../lambdas/contracts/routes.js';
import { startFixture, stopFixture, type Fixture } from './fixture.js';
import { fuzzRoute } from './harness.js';
import { junkRequest, modelFor, routeKey } from './route-models.js';

/**
 * Every public route of lambdas/contracts/routes.ts (new ones included: a route without a model fails), fuzzed with requests from its
 * model (real records, mutated bodies, credentials) and with junk. Runs per route: MODEL_RUNS + JUNK_RUNS.
 * Replay a failure with FUZZ_SEED=<seed printed by fast-check>; go deeper with FUZZ_SCALE=10.
 */
const MODEL_RUNS = 50;
const JUNK_RUNS = 20;

const PUBLIC = ROUTES.filter((r) => r.auth === 'public').map((r) => [routeKey(r), r] as const);

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ withReview: true });
});
afterAll(async () => {
  await stopFixture(fx);
});

describe('public routes under fuzzing: never a 5xx, errors in the route’s protocol, nothing written', () => {
  it.each(PUBLIC)('%s answers requests mutated from its model', async (_key, route) => {
    await fuzzRoute(fx, route, modelFor(route).requests(fx), MODEL_RUNS);
  });

  it.each(PUBLIC)('%s answers junk requests', async (_key, route) => {
    await fuzzRoute(fx, route, junkRequest(route), JUNK_RUNS);
  });
});
