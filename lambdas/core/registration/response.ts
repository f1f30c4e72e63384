import { routeUrl } from '../../contracts/routes.js';
import type { Consumer } from '../consumer/consumer.js';

const epoch = (iso: string | undefined): number => (iso === undefined ? 0 : Math.floor(Date.parse(iso) / 1000));

/**
 * The RFC 7591 / 7592 client information response. Secrets appear only when passed in: when they are issued, and on an
 * RFC 7592 read (the current client secret, and the registration access token the reader presented).
 */
export function registrationResponse(
  consumer: Consumer,
  issuer: string,
  issued: { readonly clientSecret?: string | undefined; readonly registrationToken?: string | undefined } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    client_id: consumer.clientId,
    client_id_issued_at: epoch(consumer.createdAt),
  };
  if (issued.clientSecret !== undefined) {
    body['client_secret'] = issued.clientSecret;
    body['client_secret_expires_at'] = epoch(consumer.secretExpiresAt);
  }
  if (issued.registrationToken !== undefined) body['registration_access_token'] = issued.registrationToken;
  Object.assign(body, {
    registration_client_uri: routeUrl(issuer, 'readRegistration', { client_id: consumer.clientId }),
    client_name: consumer.clientName,
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: consumer.authMethod,
    scope: consumer.scopes.join(' '),
    contacts: consumer.contacts,
    tier: consumer.tier,
    purpose: consumer.purpose,
    data_classes: consumer.dataClasses,
    expires_at: consumer.expiresAt,
    status: consumer.status,
    risk: consumer.risk,
    policy_version: consumer.policyVersion,
    reasons: consumer.decisionReasons.map((r) => ({ code: r.code, message: r.message, ...(r.subject ? { subject: r.subject } : {}) })),
    access_token_ttl: consumer.requirements.accessTokenTtlSeconds,
    approvals_required: consumer.requirements.approvals,
    dpop_bound_access_tokens: consumer.requirements.senderConstraint === 'dpop' || consumer.dpopBoundAccessTokens === true,
  });
  if (consumer.approvals !== undefined) body['approvals_granted'] = consumer.approvals.length;
  if (consumer.outcomeReason !== undefined) body['outcome_reason'] = consumer.outcomeReason;
  if (consumer.softwareId !== undefined) body['software_id'] = consumer.softwareId;
  if (consumer.jwks !== undefined) body['jwks'] = consumer.jwks;
  if (consumer.jwksUri !== undefined) body['jwks_uri'] = consumer.jwksUri;
  return body;
}
