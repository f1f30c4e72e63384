import { createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { GatehouseConfig } from '../config.js';
import { TierSchema } from '../policy/level-schemas.js';
import type { Tier } from '../policy/levels.js';
import { RegistrationError } from './errors.js';

/** What a verified software statement vouches for. */
export interface SoftwareStatement {
  readonly softwareId: string;
  readonly tier: Tier;
  readonly orgName: string | undefined;
  /** Scopes the commercial agreement covers; the request may not go beyond them. */
  readonly scopes: readonly string[] | undefined;
}

const ALGORITHMS = ['ES256', 'ES384', 'PS256', 'EdDSA'];
const MAX_AGE = '400d';

/**
 * Verifies a software statement (RFC 7591 §2.3): a JWT the bank's commercial side signs once terms are agreed.
 * Throws RegistrationError `invalid_software_statement` (bad token) or `unapproved_software_statement` (valid, but not for this).
 */
export async function verifySoftwareStatement(jwt: string, config: GatehouseConfig['softwareStatement'], now: Date): Promise<SoftwareStatement> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(jwt, createLocalJWKSet(config.jwks), {
      issuer: config.issuer,
      algorithms: ALGORITHMS,
      currentDate: now,
      maxTokenAge: MAX_AGE,
      requiredClaims: ['iat', 'software_id', 'tier'],
      clockTolerance: 60,
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
  const tier = TierSchema.safeParse(payload['tier']);
  if (!tier.success) {
    throw new RegistrationError('invalid_software_statement', 'The software statement names no known tier.', { field: 'software_statement' });
  }
  const scope = payload['scope'];
  if (scope !== undefined && typeof scope !== 'string') {
    throw new RegistrationError('invalid_software_statement', 'The software statement scope must be a string.', { field: 'software_statement' });
  }
  const orgName = payload['org_name'];
  return {
    softwareId: String(payload['software_id']),
    tier: tier.data,
    orgName: typeof orgName === 'string' ? orgName : undefined,
    scopes: scope === undefined ? undefined : scope.split(' ').filter(Boolean),
  };
}
