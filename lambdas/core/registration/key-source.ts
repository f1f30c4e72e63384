import type { RemoteKeySets } from '../ports/remote-key-sets.js';
import { RemoteKeySetError } from '../remote-jwks/errors.js';
import { parseRemoteKeySet } from '../remote-jwks/key-set.js';
import { RegistrationError } from './errors.js';
import type { ClientMetadata } from './metadata.js';
import type { SoftwareStatement } from './software-statement.js';

// Where a private_key_jwt client's keys come from, shared by registration and its RFC 7592 update.
/**
 * Where a private_key_jwt client's keys are published, if anywhere. A software statement that names
 * `software_jwks_endpoint` decides it: the bank vouched for the keys published there (a directory's, in UK OB DCR), so
 * the request may repeat that URL as `jwks_uri` but not name another one or bring keys of its own in `jwks`.
 */
export function keySetLocation(m: ClientMetadata, statement: SoftwareStatement | undefined): string | undefined {
  if (m.jwks !== undefined && m.jwks_uri !== undefined) {
    // RFC 7591 section 2: "The jwks_uri and jwks parameters MUST NOT both be present in the same request or response."
    throw new RegistrationError('invalid_client_metadata', 'Give jwks or jwks_uri, not both (RFC 7591 section 2).', { field: 'jwks_uri' });
  }
  if (m.jwks_uri !== undefined && m.token_endpoint_auth_method !== 'private_key_jwt') {
    throw new RegistrationError('invalid_client_metadata', 'jwks_uri is used only with token_endpoint_auth_method private_key_jwt.', { field: 'jwks_uri' });
  }
  const endpoint = m.token_endpoint_auth_method === 'private_key_jwt' ? statement?.jwksEndpoint : undefined;
  if (endpoint === undefined) return m.jwks_uri;
  if (m.jwks !== undefined) {
    throw new RegistrationError(
      'invalid_client_metadata',
      'The software statement names software_jwks_endpoint: the keys are the ones published there; omit jwks (or give that URL as jwks_uri).',
      { field: 'jwks' },
    );
  }
  if (m.jwks_uri !== undefined && m.jwks_uri !== endpoint) {
    throw new RegistrationError('unapproved_software_statement', "jwks_uri differs from the software statement's software_jwks_endpoint.", {
      field: 'jwks_uri',
    });
  }
  return endpoint;
}

/** Fetches the key set once, so a URL that serves no usable public keys is refused now rather than at the first token request. */
export async function checkPublishedKeys(keySets: RemoteKeySets | undefined, url: string, fromStatement: boolean): Promise<void> {
  const where = fromStatement ? "the software statement's software_jwks_endpoint" : 'jwks_uri';
  if (keySets === undefined) {
    throw new RegistrationError('invalid_client_metadata', `${where}: this server does not fetch key sets; register the public keys inline as jwks.`, {
      field: 'jwks_uri',
    });
  }
  try {
    parseRemoteKeySet(await keySets.fetchJson(url));
  } catch (cause) {
    if (!(cause instanceof RemoteKeySetError)) throw cause;
    throw new RegistrationError(
      fromStatement ? 'invalid_software_statement' : 'invalid_client_metadata',
      `The key set at ${where} was refused: ${cause.message}.`,
      {
        cause,
        field: fromStatement ? 'software_statement' : 'jwks_uri',
      },
    );
  }
}
