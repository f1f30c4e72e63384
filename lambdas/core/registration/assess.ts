import { evaluate, type Decision } from '../policy/evaluate.js';
import type { Tier } from '../policy/schema.js';
import type { BaseServices } from '../services.js';
import { RegistrationError } from './errors.js';
import type { ClientMetadata } from './metadata.js';
import { keySetLocation } from './key-source.js';
import { verifySoftwareStatement, type SoftwareStatement } from './software-statement.js';

/** Client metadata checked beyond its schema: the software statement verified, the tier settled, the scopes listed. */
export interface VerifiedMetadata {
  readonly tier: Tier;
  readonly statement: SoftwareStatement | undefined;
  readonly scopes: string[];
  /** Where a private_key_jwt client's keys are published (its jwks_uri, or the statement's software_jwks_endpoint). */
  readonly jwksUri: string | undefined;
}

/**
 * The checks a registration and an RFC 7592 update share after schema validation: the software statement (if any) is
 * verified and must agree with the tier and software_id asked for, a tier is known, and private_key_jwt comes with keys.
 */
export async function verifyMetadata(services: BaseServices, m: ClientMetadata, now: Date): Promise<VerifiedMetadata> {
  const { config, policy } = services;
  let statement: SoftwareStatement | undefined;
  if (m.software_statement !== undefined) {
    statement = await verifySoftwareStatement(m.software_statement, config.softwareStatement, now, policy.document.softwareStatements.maxLifetimeDays);
    if (m.tier !== undefined && m.tier !== statement.tier) {
      throw new RegistrationError('unapproved_software_statement', `The software statement is for the ${statement.tier} tier, not ${m.tier}.`, {
        field: 'tier',
      });
    }
    if (m.software_id !== undefined && m.software_id !== statement.softwareId) {
      throw new RegistrationError('unapproved_software_statement', 'software_id differs from the one in the software statement.', {
        field: 'software_id',
      });
    }
  }
  const tier = statement?.tier ?? m.tier;
  if (tier === undefined) {
    throw new RegistrationError('invalid_client_metadata', 'tier is required (public, partner or internal).', { field: 'tier' });
  }
  const jwksUri = keySetLocation(m, statement);
  if (m.token_endpoint_auth_method === 'private_key_jwt' && !m.jwks && jwksUri === undefined) {
    throw new RegistrationError('invalid_client_metadata', 'private_key_jwt needs the public keys, inline in jwks or published at jwks_uri.', {
      field: 'jwks',
    });
  }
  return { tier, statement, scopes: [...new Set(m.scope.split(' '))], jwksUri };
}

/** The deployed policy's decision on verified metadata: the same evaluation for a registration and for an update that raises risk. */
export function decideAccess(services: BaseServices, m: ClientMetadata, verified: VerifiedMetadata, now: Date): Decision {
  return evaluate(
    services.policy,
    {
      tier: verified.tier,
      scopes: verified.scopes,
      dataClasses: m.data_classes,
      purpose: m.purpose,
      expiresAt: m.expires_at === undefined ? undefined : new Date(m.expires_at),
      authMethod: m.token_endpoint_auth_method,
      contacts: m.contacts,
      softwareStatement: verified.statement ? { scopes: verified.statement.scopes } : undefined,
    },
    now,
  );
}
