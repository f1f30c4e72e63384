import { clientCredentials } from '../core/oauth/client-credentials.js';
import { ConsumerCache } from '../core/oauth/consumer-cache.js';
import { OAuthError } from '../core/oauth/errors.js';
import type { Services } from '../core/services.js';
import { SigningKeyCache } from '../core/tokens/signing-keys.js';
import { bodyText, header, mediaType } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { json } from './http/respond.js';

/** POST /oauth2/token — the client credentials grant (RFC 6749 §4.4). */
export function createTokenHandler(services: Services): HttpLambda {
  const deps = {
    consumers: new ConsumerCache(services.registry, services.clock, services.config.consumerCacheMs),
    keys: new SigningKeyCache(services.vault, services.clock),
  };
  return httpHandler(services, async (event) => {
    if (mediaType(event) !== 'application/x-www-form-urlencoded') {
      throw new OAuthError('invalid_request', 'Send the token request as application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(bodyText(event, services.config.maxBodyBytes));
    const response = await clientCredentials(services, deps, { authorization: header(event, 'authorization'), form });
    return json(200, response);
  });
}
