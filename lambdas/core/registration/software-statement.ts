import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { GatehouseConfig } from '../config.js';
import { TierSchema } from '../policy/level-schemas.js';
import type { Tier } from '../policy/levels.js';
import { jwksUriProblem } from '../remote-jwks/url.js';
import { RegistrationError } from './errors.js';

/** What a verified software statement vouches for. */
export interface SoftwareStatement {
  readonly softwareId: string;
  readonly tier: Tier;
  readonly orgName: string | undefined;
  /** Scopes the commercial agreement covers; the request may not go beyond them. */
  readonly scopes: readonly string[] | undefined;
  /**
   * Where the software's keys are published (`software_jwks_endpoint`, UK OB DCR): a private_key_jwt client registered
   * with this statement authenticates with the keys published there (its `jwks_uri`), not with keys of its own choosing.
   */
  readonly jwksEndpoint: string | undefined;
}

const ALGORITHMS = ['ES256', 'ES384', 'PS256', 'EdDSA'];
const SKEW_S = 60;

/**
 * Verifies a software statement (RFC 7591 §2.3): a JWT the bank's commercial side signs once terms are agreed. It must
 * carry `iat` and `exp` at most `maxLifetimeDays` apart (the policy's `softwareStatements.maxLifetimeDays`): a statement
 * that never expires, or expires in a year, is a bearer credential for registering clients long after the agreement.
 * Throws RegistrationError `invalid_software_statement` (bad token) or `unapproved_software_statement` (valid, but not for this).
 */
export async function verifySoftwareStatement(
  jwt: string,
  config: GatehouseConfig['softwareStatement'],
  now: Date,
  maxLifetimeDays: number,
): Promise<SoftwareStatement> {
  let payload: Record<string, unknown> & { iat?: number; exp?: number };
  try {
    ({ payload } = await jwtVerify(jwt, createLocalJWKSet(config.jwks), {
      issuer: config.issuer,
      algorithms: ALGORITHMS,
      currentDate: now,
      maxTokenAge: `${maxLifetimeDays}d`,
      requiredClaims: ['iat', 'exp', 'software_id', 'tier'],
      clockTolerance: SKEW_S,
    }));
  } catch (cause) {
    const why =
      cause instanceof joseErrors.JWTExpired
        ? 'it has expired'
        : cause instanceof joseErrors.JWTClaimValidationFailed
          ? `claim "${cause.claim}" is not acceptable (${cause.reason})`
          : cause instanceof joseErrors.JWKSNoMatchingKey || cause instanceof joseErrors.JWSSignatureVerificationFailed
            ? 'it is not signed by a key the bank trusts'
            : 'it is not a valid signed JWT';
    throw new RegistrationError('invalid_software_statement', `The software statement was refused: ${why}.`, {
      cause,
      field: 'software_statement',
    });
  }
  // jose has checked both are numbers and that iat is not too old; the span is what bounds a statement's use.
  const lifetimeS = payload.exp! - payload.iat!;
  const nowS = Math.floor(now.getTime() / 1000);
  if (lifetimeS > maxLifetimeDays * 86_400 || payload.iat! > nowS + SKEW_S) {
    throw new RegistrationError(
      'invalid_software_statement',
      `The software statement was refused: it may live at most ${maxLifetimeDays} days from iat to exp, and may not be issued in the future.`,
      { field: 'software_statement' },
    );
  }
  const tier = TierSchema.safeParse(payload['tier']);
  if (!tier.success) {
    throw new RegistrationError('invalid_software_statement', 'The software statement names no known tier.', { field: 'software_statement' });
  }
  const scope = payload['scope'];
  if (scope !== undefined && typeof scope !== 'string') {
    throw new RegistrationError('invalid_software_statement', 'The software statement scope must be a string.', { field: 'software_statement' });
  }
  const jwksEndpoint = payload['software_jwks_endpoint'];
  if (jwksEndpoint !== undefined && (typeof jwksEndpoint !== 'string' || jwksUriProblem(jwksEndpoint) !== undefined)) {
    const why = typeof jwksEndpoint === 'string' ? jwksUriProblem(jwksEndpoint)! : 'must be a string';
    throw new RegistrationError('invalid_software_statement', `The software statement's software_jwks_endpoint ${why}.`, { field: 'software_statement' });
  }
  const orgName = payload['org_name'];
  return {
    softwareId: String(payload['software_id']),
    tier: tier.data,
    orgName: typeof orgName === 'string' ? orgName : undefined,
    scopes: scope === undefined ? undefined : scope.split(' ').filter(Boolean),
    jwksEndpoint,
  };
}
