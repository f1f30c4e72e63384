import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { withCallerSignal } from '../../core/caller-scope.js';
import { withLogKeys } from '../../core/log-context.js';
import type { BaseServices } from '../../core/services.js';
import { toHttpResponse, type ResponseFormat } from './to-response.js';

export type HttpFunction = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
export type HttpLambda = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a small request function in the shared middy chain: every thrown error is mapped to HTTP in one place, in the
 * route's protocol (`oauth` for the RFC 6749 endpoints, whose outages answer `temporarily_unavailable`; `registration`
 * for RFC 7591/7592, whose edge refusals answer RFC 7591 JSON; see HANDLER_PROTOCOLS); the metrics the
 * request recorded are published once, whichever way it ended; every log line written while it runs (the core's
 * included) carries API Gateway's request id as `correlation_id`; and once middy has answered 503 just before the
 * function's timeout, the request's AWS calls are abandoned (lambdas/core/caller-scope.ts).
 */
export function httpHandler(services: BaseServices, fn: HttpFunction, format: ResponseFormat = {}): HttpLambda {
  const chain = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .after(() => services.metrics.flush())
    .onError((request) => {
      request.response = toHttpResponse(request.error, services.log, format);
      services.metrics.flush();
    })
    // middy aborts `signal` when it answers just before the function's timeout: the adapters then abandon the request's calls.
    // middy shares one AbortController between invocations, which is right while an instance serves one request at a time
    // (as these functions do); local mode, which serves many at once, builds its clients without the caller middleware.
    .handler((event, _context, { signal }) => withCallerSignal(signal, () => fn(event)));
  return (event, context) => withLogKeys({ correlation_id: event.requestContext?.requestId }, () => chain(event, context));
}
