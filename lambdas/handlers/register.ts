import { parseClientMetadata } from '../core/registration/metadata.js';
import type { RegistrationQuota } from '../core/registration/quota.js';
import { register } from '../core/registration/register.js';
import type { RemoteKeySets } from '../core/ports/remote-key-sets.js';
import type { Needs } from '../core/services.js';
import type { SoftwareConsumers } from '../core/registration/software-consumers.js';
import { header, jsonObjectBody } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { HANDLER_PROTOCOLS } from './http/protocols.js';
import { json } from './http/respond.js';

/** Ports the register handler needs beyond Services. */
export interface RegisterPorts {
  /** Counts anonymous registrations per caller address; without it (unit tests of other behaviour) nothing is counted. */
  readonly registrationQuota?: RegistrationQuota;
  /** Counts live consumers per software_id; without it (unit tests of other behaviour) no limit is applied. */
  readonly softwareConsumers?: SoftwareConsumers;
  /** Fetches a registered `jwks_uri` to check it; without it, registrations with one are refused. */
  readonly remoteKeySets?: RemoteKeySets;
}

/** POST /register — RFC 7591 registration, decided by policy. */
export function createRegisterHandler(
  services: Needs<'createConsumer' | 'getConsumer' | 'updateConsumer' | 'getIdempotency', 'clientSecrets' | 'workflow'>,
  ports: RegisterPorts = {},
): HttpLambda {
  return httpHandler(
    services,
    async (event) => {
      const { value, text } = jsonObjectBody(event, services.config.maxBodyBytes);
      const result = await register(
        services,
        {
          metadata: parseClientMetadata(value),
          rawBody: text,
          idempotencyKey: header(event, 'idempotency-key'),
          sourceIp: event.requestContext?.identity?.sourceIp,
        },
        { quota: ports.registrationQuota, softwareConsumers: ports.softwareConsumers, keySets: ports.remoteKeySets },
      );
      const location = result.body['registration_client_uri'];
      return json(result.statusCode, result.body, {
        ...(typeof location === 'string' ? { location } : {}),
        ...(result.replayed ? { 'idempotent-replayed': 'true' } : {}),
      });
    },
    { protocol: HANDLER_PROTOCOLS.register },
  );
}
