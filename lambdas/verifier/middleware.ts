import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { header, headerValues } from '../handlers/http/event.js';
import { AccessError } from './errors.js';
import type { AccessTokenVerifier, VerifiedAccess } from './verify-access-token.js';

export interface RequireAccessTokenOptions {
  readonly scopes?: readonly string[];
  /** The API's public base URL (e.g. https://api.bank.example/v1); the DPoP `htu` is this plus the request path. */
  readonly publicBaseUrl?: string;
}

/** Context of a verified request, for the handler: `context.gatehouse`. */
export type ContextWithAccess = Context & { gatehouse?: VerifiedAccess };

/** The URI the client called, for DPoP `htu`. */
export function requestUrl(event: APIGatewayProxyEvent, publicBaseUrl?: string): string {
  if (publicBaseUrl) return `${publicBaseUrl.replace(/\/$/, '')}${event.path}`;
  const host = header(event, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const proto = header(event, 'x-forwarded-proto') ?? 'https';
  // requestContext.path is what the client called, stage prefix included (event.path drops it).
  const path = event.requestContext?.path ?? event.path;
  return `${proto}://${host}${path}`;
}

/** middy middleware: refuses the request (401/403 with WWW-Authenticate) unless it carries a valid Gatehouse token. */
export function requireAccessToken(
  verifier: AccessTokenVerifier,
  options: RequireAccessTokenOptions = {},
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ContextWithAccess> {
  return {
    before: async (request) => {
      try {
        const proofs = headerValues(request.event, 'dpop');
        if (proofs.length > 1) throw new AccessError('invalid_dpop_proof', 'Send exactly one DPoP proof.', { scheme: 'DPoP' });
        request.context.gatehouse = await verifier(
          {
            authorization: header(request.event, 'authorization'),
            dpop: proofs[0],
            method: request.event.httpMethod,
            url: requestUrl(request.event, options.publicBaseUrl),
          },
          options.scopes,
        );
        return undefined;
      } catch (error) {
        if (!(error instanceof AccessError)) throw error;
        return {
          statusCode: error.status,
          headers: {
            'www-authenticate': error.wwwAuthenticate,
            'content-type': 'application/json',
            'cache-control': 'no-store',
            ...(error.status === 503 ? { 'retry-after': '5' } : {}),
          },
          body: JSON.stringify({ error: error.code, error_description: error.message }),
        };
      }
    },
  };
}
