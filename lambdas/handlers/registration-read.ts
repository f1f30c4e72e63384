import { readRegistration } from '../core/registration/read.js';
import type { Needs } from '../core/services.js';
import { bearerToken, header } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json } from './http/respond.js';

/** GET /register/{client_id} — RFC 7592 read with the registration access token. */
export function createRegistrationReadHandler(services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'clientSecrets'>): HttpLambda {
  return httpHandler(
    services,
    async (event) => {
      const bearer = bearerToken(header(event, 'authorization'));
      const clientId = event.pathParameters?.['client_id'] ?? '';
      return json(200, await readRegistration(services, clientId, bearer));
    },
    { protocol: HANDLER_PROTOCOLS['registration-read'] },
  );
}
