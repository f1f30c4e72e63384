import { createOAuthDeps, type OAuthPorts } from '../core/oauth/deps.js';
import { revoke } from '../core/oauth/introspect.js';
import type { Needs } from '../core/services.js';
import { header, oauthForm } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json } from './http/respond.js';

/** POST /oauth2/revoke — RFC 7009: a client revokes its own access token. */
export function createRevocationHandler(services: Needs<'getConsumer' | 'claimOnce' | 'recordTokenRevocation', 'vault'>, ports: OAuthPorts = {}): HttpLambda {
  const deps = createOAuthDeps(services, ports);
  return httpHandler(
    services,
    async (event) => {
      const form = oauthForm(event, services.config.maxBodyBytes);
      await revoke(services, deps, { authorization: header(event, 'authorization'), form });
      return json(200, {});
    },
    { protocol: HANDLER_PROTOCOLS.revocation },
  );
}
