import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Services } from '../../core/services.js';
import { toHttpResponse } from './to-response.js';

export type HttpFunction = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
export type HttpLambda = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Wraps a small request function in the shared middy chain: every thrown error is mapped to HTTP in one place. */
export function httpHandler(services: Services, fn: HttpFunction): HttpLambda {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .onError((request) => {
      request.response = toHttpResponse(request.error, services.log);
    })
    .handler((event) => fn(event)) as unknown as HttpLambda;
}
