import type { JSONWebKeySet } from 'jose';
import type { OperatorEntry } from './admin/operators.js';

/** Deployment settings the core needs; read once at start-up (env in AWS, local config in local mode). */
export interface GatehouseConfig {
  /** Issuer identifier (RFC 8414): the base URL every endpoint hangs off, and the `iss` of every token. */
  readonly issuer: string;
  /** `aud` of access tokens (RFC 9068): the bank API(s) the tokens are for. */
  readonly tokenAudience: string;
  /** Who signs software statements (the commercial side), and their public keys. */
  readonly softwareStatement: { readonly issuer: string; readonly jwks: JSONWebKeySet };
  /** How long a token endpoint instance may serve a consumer record from memory; bounds how late a revocation bites. */
  readonly consumerCacheMs: number;
  /** Human-readable documentation for client developers (RFC 8414 `service_documentation`); omitted when undefined. */
  readonly serviceDocumentation?: string | undefined;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Who reviews requests: a group per risk, falling back to `default`. */
  readonly reviewers: ReviewerGroups;
  /** Who the operators are: each person's email and the IAM principals they call the admin API as. @default none */
  readonly operators?: readonly OperatorEntry[] | undefined;
}

/** Reviewer email addresses by risk level; `default` serves any risk without its own group. */
export interface ReviewerGroups {
  readonly default: readonly string[];
  readonly low?: readonly string[];
  readonly medium?: readonly string[];
  readonly high?: readonly string[];
}
