import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { powertoolsLog } from '../../../../lambdas/adapters/aws/log.js';
import { consoleLog } from '../../../../lambdas/adapters/local/console-log.js';
import type { Metrics } from '../../../../lambdas/core/metrics.js';
import { ServiceError } from '../../../../lambdas/core/errors.js';
import { httpHandler } from '../../../../lambdas/handlers/http/http-handler.js';
import { json } from '../../../../lambdas/handlers/http/respond.js';
import { createTokenHandler } from '../../../../lambdas/handlers/token.js';
import { captureOutput, CLIENT_ID, CLIENT_SECRET, consumerFixture } from '../../fixtures.js';
import { buildServices, FakeTable, httpEvent, lambdaContext } from '../fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

/** Every JSON log line written (Powertools: INFO on stdout, WARN/ERROR on stderr; local mode: stderr). */
const { jsonLines: logLines } = captureOutput();

afterEach(() => {
  ddb.reset();
});

const withRequestId = (event: APIGatewayProxyEvent, requestId: string): APIGatewayProxyEvent => ({
  ...event,
  requestContext: { ...event.requestContext, requestId },
});

/** A Metrics port that only counts its flushes. */
function flushCounter(): Metrics & { flushes: number; recorded: string[] } {
  const port = {
    flushes: 0,
    recorded: [] as string[],
    record: (name: string) => void port.recorded.push(name),
    flush: () => void port.flushes++,
  };
  return port as Metrics & { flushes: number; recorded: string[] };
}

describe('httpHandler', () => {
  it('puts the API Gateway request id as correlation_id on a log line written from inside the core during a token request', async () => {
    new FakeTable(ddb).putConsumer(consumerFixture());
    // The liveness write fails: the core (oauth/client-credentials.ts) logs a warning and still issues the token.
    ddb.on(UpdateCommand).rejects(new Error('throttled'));
    const services = { ...buildServices({ jwks: { keys: [] } }), log: powertoolsLog(new Logger({ serviceName: 'gatehouse' })) };
    const handler = createTokenHandler(services);
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

    const response = await handler(
      withRequestId(
        httpEvent({
          method: 'POST',
          resource: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
          body: 'grant_type=client_credentials',
        }),
        'apigw-7f3c2a',
      ),
      lambdaContext,
    );

    expect(response.statusCode).toBe(200);
    const warning = logLines().find((l) => l['message'] === 'could not record use');
    expect(warning).toMatchObject({ level: 'WARN', correlation_id: 'apigw-7f3c2a', clientId: CLIENT_ID, service: 'gatehouse' });
    // The scope ends with the invocation: a later line outside it has no correlation id.
    services.log.info('between invocations');
    expect(logLines().at(-1)).not.toHaveProperty('correlation_id');
  });

  it("puts the correlation id on the line the error mapping writes, and keeps overlapping requests' ids apart", async () => {
    const services = { ...buildServices({ jwks: { keys: [] } }), log: consoleLog() };
    const gates = new Map<string, () => void>();
    const handler = httpHandler(services, async (event) => {
      await new Promise<void>((resolve) => gates.set(event.requestContext.requestId, resolve));
      services.log.info('working', { path: event.path });
      throw new ServiceError('dependency_unavailable', 'The table is throttled.', { cause: new Error('ThrottlingException') });
    });
    const event = (id: string) => withRequestId(httpEvent({ method: 'GET', resource: `/r/${id}` }), id);

    const first = handler(event('req-a'), lambdaContext);
    const second = handler(event('req-b'), lambdaContext);
    await vi.waitFor(() => expect(gates.size).toBe(2));
    gates.get('req-b')!();
    gates.get('req-a')!();
    expect((await Promise.all([first, second])).map((r) => r.statusCode)).toEqual([503, 503]);

    const lines = logLines();
    expect(lines.filter((l) => l['message'] === 'working').map((l) => [l['path'], l['correlation_id']])).toEqual([
      ['/r/req-b', 'req-b'],
      ['/r/req-a', 'req-a'],
    ]);
    expect(lines.filter((l) => l['message'] === 'dependency unavailable').map((l) => [l['level'], l['correlation_id']])).toEqual([
      ['ERROR', 'req-b'],
      ['ERROR', 'req-a'],
    ]);
  });

  it('publishes the metrics once per invocation, after a response and after an error', async () => {
    const metrics = flushCounter();
    const services = { ...buildServices({ jwks: { keys: [] } }), metrics };
    const handler = httpHandler(services, async (event) => {
      metrics.record('AdminActions', { action: 'suspend' });
      if (event.path === '/fail') throw new ServiceError('not_found', 'No such consumer.');
      return json(200, { ok: true });
    });

    expect((await handler(httpEvent({ method: 'GET', resource: '/ok' }), lambdaContext)).statusCode).toBe(200);
    expect(metrics.flushes).toBe(1);
    expect((await handler(httpEvent({ method: 'GET', resource: '/fail' }), lambdaContext)).statusCode).toBe(404);
    expect(metrics.flushes).toBe(2);
    expect(metrics.recorded).toEqual(['AdminActions', 'AdminActions']);
  });
});
