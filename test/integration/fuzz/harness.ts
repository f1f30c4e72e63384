import fc from 'fast-check';
import { expect } from 'vitest';
import type { Route } from '../../../lambdas/contracts/routes.js';
import { tableSnapshot } from '../local-mode.js';
import type { Fixture } from './fixture.js';
import { send, type WireRequest, type WireResponse } from './http-client.js';
import { expectProtocolAnswer, fuzzPasses } from './oracle.js';
import { modelFor, toWire, type RouteRequest } from './route-models.js';

/**
 * Runs `numRuns` fuzzed requests against `route`. Each run: send, check the answer (`check`, by default the route's
 * protocol oracle), then, if the plane sent any write to its table during the run, compare the whole table with the
 * fixture's baseline, so the run that wrote is the one reported. A run that sent no write cannot have changed the table.
 */
export async function fuzzRoute(
  fx: Fixture,
  route: Route,
  requests: fc.Arbitrary<RouteRequest>,
  numRuns: number,
  options: {
    readonly extraHeaders?: fc.Arbitrary<Readonly<Record<string, string>>>;
    readonly check?: (wire: WireRequest, res: WireResponse) => void;
  } = {},
): Promise<void> {
  const model = modelFor(route);
  const stats = process.env['FUZZ_STATS'] ? new Map<string, number>() : undefined;
  const check =
    options.check ?? ((wire: WireRequest, res: WireResponse) => expectProtocolAnswer(route, wire, res, { mayAccept: model.mayAccept, secrets: fx.secrets }));
  const property = fc.asyncProperty(requests, options.extraHeaders ?? fc.constant({}), async (rr, extra) => {
    const wire = toWire(route, rr, extra);
    const writesBefore = fx.writesSent();
    const res = await send(fx.plane.url, wire);
    if (stats) {
      const detail =
        process.env['FUZZ_STATS'] === 'detail'
          ? ` ${/"(?:error_description|detail)":"([^"]{0,50})|<p>([^<]{0,50})/.exec(res.text)?.slice(1).join('') ?? ''}`
          : '';
      const outcome = `${res.status} ${/"(?:error|type)":"([^"]+)"/.exec(res.text)?.[1]?.replace('https://gatehouse.dev/problems/', '') ?? ''}${detail}`;
      stats.set(outcome, (stats.get(outcome) ?? 0) + 1);
    }
    check(wire, res);
    if (route.handler === 'registration-read' && res.status === 200 && (await tookNewRegistrationToken(fx, res))) return;
    if (fx.writesSent() === writesBefore) return;
    expect(await tableSnapshot(fx.plane), `${wire.method} ${wire.path.slice(0, 200)} changed the table`).toEqual(fx.baseline);
  });
  for (const params of fuzzPasses(numRuns)) await fc.assert(property, params);
  // FUZZ_STATS=1 prints what the runs got back, to see which paths of a route a model reaches.
  if (stats) console.log(`${route.method} ${route.path}:`, Object.fromEntries([...stats].sort((a, b) => b[1] - a[1])));
}

/**
 * An RFC 7592 read that hands out a client secret replaces the registration access token (the one write a successful
 * read makes): the fixture takes the new token, as the client would, and the table after it becomes the baseline.
 */
async function tookNewRegistrationToken(fx: Fixture, res: WireResponse): Promise<boolean> {
  const body = JSON.parse(res.text) as { client_id?: unknown; registration_access_token?: unknown };
  const client = [fx.basic, fx.keyBound, fx.introspector].find((c) => c.clientId === body.client_id);
  const token = body.registration_access_token;
  if (!client || typeof token !== 'string' || token === client.registrationToken) return false;
  (client as { registrationToken: string }).registrationToken = token;
  (fx.secrets as string[]).push(token);
  (fx as { baseline: unknown[] }).baseline = await tableSnapshot(fx.plane);
  return true;
}
