import { clientCredentials } from '../core/oauth/client-credentials.js';
import { createOAuthDeps, type OAuthPorts } from '../core/oauth/deps.js';
import { OAuthError } from '../core/oauth/errors.js';
import type { Needs } from '../core/services.js';
import { header, headerValues, oauthForm } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json } from './http/respond.js';

/** POST /oauth2/token — the client credentials grant (RFC 6749 §4.4), DPoP-bound where asked or required. */
export function createTokenHandler(services: Needs<'getConsumer' | 'claimOnce' | 'recordScopes' | 'recordUse', 'vault'>, ports: OAuthPorts = {}): HttpLambda {
  const deps = createOAuthDeps(services, ports);
  return httpHandler(
    services,
    async (event) => {
      try {
        const form = oauthForm(event, services.config.maxBodyBytes);
        const response = await clientCredentials(services, deps, { authorization: header(event, 'authorization'), form, dpop: headerValues(event, 'dpop') });
        // RFC 9449 section 8.2: each response hands out the nonce for the next proof.
        return json(200, response, deps.dpopNonces ? { 'dpop-nonce': await deps.dpopNonces.issue(services.clock.now()) } : undefined);
      } catch (error) {
        // Counted here, where a refusal is still an OAuth error code (the response is written in the one place errors become HTTP).
        if (error instanceof OAuthError) services.metrics.record('TokenRequestsRefused', { error: error.code });
        throw error;
      }
    },
    { protocol: HANDLER_PROTOCOLS.token },
  );
}
