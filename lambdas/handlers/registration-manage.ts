import { deleteRegistration } from '../core/registration/delete.js';
import { updateRegistration } from '../core/registration/update.js';
import type { RemoteKeySets } from '../core/ports/remote-key-sets.js';
import type { Needs } from '../core/services.js';
import { bearerToken, header, jsonObjectBody } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json, noContent } from './http/respond.js';

/** PUT and DELETE /register/{client_id} — RFC 7592 update (through the policy) and delete, with the registration access token. */
export function createRegistrationManageHandler(
  services: Needs<'getConsumer' | 'updateConsumer' | 'getRequest', 'workflow' | 'mailer' | 'clientSecrets'>,
  ports: { readonly remoteKeySets?: RemoteKeySets } = {},
): HttpLambda {
  return httpHandler(
    services,
    async (event) => {
      const bearer = bearerToken(header(event, 'authorization'));
      const clientId = event.pathParameters?.['client_id'] ?? '';
      if (event.httpMethod === 'DELETE') {
        await deleteRegistration(services, clientId, bearer);
        return noContent();
      }
      const result = await updateRegistration(services, clientId, bearer, () => jsonObjectBody(event, services.config.maxBodyBytes).value, ports.remoteKeySets);
      return json(result.statusCode, result.body);
    },
    { protocol: HANDLER_PROTOCOLS['registration-manage'] },
  );
}
