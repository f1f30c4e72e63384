import * as z from 'zod';
import { AuthMethodSchema, TierSchema } from '../policy/schema.js';
import { hasPrivateMembers } from '../util/jwk.js';


/**
 * Every JWK member is a string, a boolean (`ext`) or a list of strings (`key_ops`, `x5c`); anything nested deeper is not
 * a key and is refused here, before it reaches the idempotency fingerprint or the registry (unbounded recursion).
 */
const JwkMemberValue = z.union([z.string().max(8192), z.boolean(), z.array(z.string().max(8192)).max(10)]);

const PublicJwkSchema = z
  .object({ kty: z.enum(['EC', 'RSA', 'OKP']), kid: z.string().min(1).max(200).optional() })
  .catchall(JwkMemberValue)
  .refine((jwk) => !hasPrivateMembers(jwk), 'must be a public key (no private members)');

const Email = z.email().max(254);

/**
 * RFC 7591 client metadata for the client-credentials grant, plus Gatehouse's governance fields.
 * Unknown members are ignored, as RFC 7591 §2 requires.
 */
export const ClientMetadataSchema = z.object({
  client_name: z.string().trim().min(1).max(200),
  tier: TierSchema.optional(),
  scope: z
    .string()
    .max(2000)
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens (RFC 6749 §3.3)'),
  purpose: z.string().max(2000).default(''),
  data_classes: z.array(z.string().min(1).max(100)).max(20).default([]),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  contacts: z.array(Email).max(20).default([]),
  token_endpoint_auth_method: AuthMethodSchema.default('client_secret_basic'),
  grant_types: z.array(z.literal('client_credentials')).min(1).default(['client_credentials']),
  response_types: z.array(z.string()).max(0, 'response_types are not used by the client_credentials grant').optional(),
  redirect_uris: z.array(z.string()).max(0, 'redirect_uris are not used by the client_credentials grant').optional(),
  jwks: z.object({ keys: z.array(PublicJwkSchema).min(1).max(10) }).optional(),
  jwks_uri: z
    .string()
    .optional()
    .refine((v) => v === undefined, 'jwks_uri is not supported yet: register the public keys inline as jwks'),
  software_id: z.string().min(1).max(200).optional(),
  software_version: z.string().min(1).max(100).optional(),
  software_statement: z.string().min(1).max(8192).optional(),
  client_uri: z.url().max(2000).optional(),
  dpop_bound_access_tokens: z.boolean().optional(),
});

export type ClientMetadata = z.infer<typeof ClientMetadataSchema>;
