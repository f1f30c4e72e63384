import * as z from 'zod/mini';
import '../util/zod-messages.js';
import { AuthMethodSchema, TierSchema } from '../policy/level-schemas.js';
import { hasPrivateMembers } from '../util/jwk.js';
import { jwksUriProblem } from '../remote-jwks/url.js';
import { RegistrationError } from './errors.js';

// zod/mini: the register and admin functions validate with these schemas, and the chainable API would add about 70 KB to
// each bundle (lambdas/core/util/zod-messages.ts). Checks run in the order given, as the chained calls did.

/**
 * Every JWK member is a string, a boolean (`ext`) or a list of strings (`key_ops`, `x5c`); anything nested deeper is not
 * a key and is refused here, before it reaches the idempotency fingerprint or the registry (unbounded recursion).
 */
const JwkMemberValue = z.union([z.string().check(z.maxLength(8192)), z.boolean(), z.array(z.string().check(z.maxLength(8192))).check(z.maxLength(10))]);

export const PublicJwkSchema = z
  .catchall(z.object({ kty: z.enum(['EC', 'RSA', 'OKP']), kid: z.optional(z.string().check(z.minLength(1), z.maxLength(200))) }), JwkMemberValue)
  .check(z.refine((jwk) => !hasPrivateMembers(jwk), 'must be a public key (no private members)'));

/**
 * Text fields are data, not layout: they reach reviewer emails, the review page and operators' terminals, where a line
 * break could forge a line of its own (a fake link or fact) and an escape sequence could drive the terminal. C0 (CR, LF
 * and TAB included), DEL, C1 and the Unicode line and paragraph separators are refused.
 */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';
export const NO_CONTROL = z.regex(new RegExp(`^[^${CONTROL}]*$`), 'must not contain control characters or line breaks');
/** `purpose` is prose: line breaks (LF or CRLF) are allowed, other control characters are not; emails indent its later lines. */
export const PROSE = z.regex(new RegExp(`^(?:[^${CONTROL}]|\\r?\\n)*$`), 'must not contain control characters other than line breaks');

const Email = z.email().check(z.maxLength(254), NO_CONTROL);

/**
 * RFC 7591 client metadata for the client-credentials grant, plus Gatehouse's governance fields.
 * Unknown members are ignored, as RFC 7591 §2 requires.
 */
export const ClientMetadataSchema = z.object({
  client_name: z.string().check(z.trim(), z.minLength(1), z.maxLength(200), NO_CONTROL),
  tier: z.optional(TierSchema),
  scope: z
    .string()
    .check(z.maxLength(2000), z.regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'space-separated scope tokens (RFC 6749 section 3.3)')),
  purpose: z._default(z.string().check(z.maxLength(2000), PROSE), ''),
  data_classes: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(100), NO_CONTROL)).check(z.maxLength(20)), []),
  expires_at: z.optional(z.iso.datetime({ offset: true })),
  contacts: z._default(z.array(Email).check(z.maxLength(20)), []),
  token_endpoint_auth_method: z._default(AuthMethodSchema, 'client_secret_basic'),
  grant_types: z._default(z.array(z.literal('client_credentials')).check(z.minLength(1)), ['client_credentials']),
  response_types: z.optional(z.array(z.string()).check(z.maxLength(0, 'response_types are not used by the client_credentials grant'))),
  redirect_uris: z.optional(z.array(z.string()).check(z.maxLength(0, 'redirect_uris are not used by the client_credentials grant'))),
  jwks: z.optional(z.object({ keys: z.array(PublicJwkSchema).check(z.minLength(1), z.maxLength(10)) })),
  /** Where a private_key_jwt client publishes its public keys; the fetcher checks the address it resolves to at each fetch. */
  jwks_uri: z.optional(
    z.string().check(
      z.superRefine((v, ctx) => {
        const problem = jwksUriProblem(v);
        if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: v });
      }),
    ),
  ),
  software_id: z.optional(z.string().check(z.minLength(1), z.maxLength(200), NO_CONTROL)),
  software_version: z.optional(z.string().check(z.minLength(1), z.maxLength(100), NO_CONTROL)),
  software_statement: z.optional(z.string().check(z.minLength(1), z.maxLength(8192))),
  client_uri: z.optional(z.url().check(z.maxLength(2000))),
  dpop_bound_access_tokens: z.optional(z.boolean()),
});

export type ClientMetadata = z.infer<typeof ClientMetadataSchema>;

/** Client metadata from a request body (RFC 7591 registration and RFC 7592 update), or the RFC 7591 error for the first problem. */
export function parseClientMetadata(value: unknown): ClientMetadata {
  const parsed = ClientMetadataSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  throw new RegistrationError(
    issue.path[0] === 'software_statement' ? 'invalid_software_statement' : 'invalid_client_metadata',
    `${field || 'body'}: ${issue.message}`,
    field ? { field } : {},
  );
}
