import { createOAuthDeps, type OAuthPorts } from '../core/oauth/deps.js';
import { introspect } from '../core/oauth/introspect.js';
import type { Needs } from '../core/services.js';
import { header, oauthForm } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json } from './http/respond.js';

/** POST /oauth2/introspect — RFC 7662, for resource servers holding `tokens:introspect`. */
export function createIntrospectionHandler(services: Needs<'getConsumer' | 'hasMarker' | 'claimOnce', 'vault'>, ports: OAuthPorts = {}): HttpLambda {
  const deps = createOAuthDeps(services, ports);
  return httpHandler(
    services,
    async (event) => {
      const form = oauthForm(event, services.config.maxBodyBytes);
      return json(200, await introspect(services, deps, { authorization: header(event, 'authorization'), form }));
    },
    { protocol: HANDLER_PROTOCOLS.introspection },
  );
}
