import { GatehouseError } from '../errors.js';

/** Why a client's published key set could not be used. */
export type RemoteKeySetErrorCode =
  /** The URL is not an https URL the fetcher may call (scheme, credentials, fragment, length). */
  | 'url_refused'
  /** The host is, or resolves to, an address inside a private network, the machine itself or the cloud's metadata service. */
  | 'address_refused'
  /** The server answered with a redirect; none is followed. */
  | 'redirect_refused'
  /** The body is larger than the limit. */
  | 'too_large'
  /** No complete answer within the time limit. */
  | 'timeout'
  /** Connection, DNS or TLS failure, or a status other than 200. */
  | 'unreachable'
  /** The body is not a JSON Web Key Set of public signing keys. */
  | 'not_a_key_set';

/** A client's key set could not be fetched or was not acceptable; the message says which rule it broke, for the partner. */
export class RemoteKeySetError extends GatehouseError<RemoteKeySetErrorCode> {
  override readonly name = 'RemoteKeySetError';
}
