import { REVOCATION_LIST_MAX_AGE_SECONDS, signRevocationList } from '../core/revocation/document.js';
import type { Needs } from '../core/services.js';
import { signingKeysFor } from '../core/tokens/signing-keys.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';

/**
 * GET /oauth2/revocations: the signed revocation list. One document is built (one query, one signature) per
 * REVOCATION_LIST_MAX_AGE_SECONDS per instance, and caches may keep it only for what is left of that age, so no
 * resource server is served a list older than that.
 */
export function createRevocationListHandler(services: Needs<'listRevocations', 'vault'>): HttpLambda {
  const keys = signingKeysFor(services, 60_000);
  let built: Promise<{ at: number; jwt: string }> | undefined;
  let builtAt = Number.NEGATIVE_INFINITY;
  const build = async (now: Date) => {
    const jwt = await signRevocationList(await keys.current(), services.config.issuer, await services.revocations.listRevocations(now), now);
    return { at: now.getTime(), jwt };
  };
  return httpHandler(
    services,
    async () => {
      const now = services.clock.now();
      if (built === undefined || now.getTime() - builtAt >= REVOCATION_LIST_MAX_AGE_SECONDS * 1000) {
        builtAt = now.getTime();
        // Requests that arrive while it is built share it; a failed build is not kept.
        built = build(now).catch((error: unknown) => {
          built = undefined;
          throw error;
        });
      }
      const document = await built;
      const left = Math.max(0, REVOCATION_LIST_MAX_AGE_SECONDS - Math.ceil((now.getTime() - document.at) / 1000));
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/jwt', 'cache-control': `public, max-age=${left}`, 'x-content-type-options': 'nosniff' },
        body: document.jwt,
      };
    },
    { protocol: HANDLER_PROTOCOLS['revocation-list'] },
  );
}
