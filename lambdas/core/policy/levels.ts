/**
 * The policy's fixed vocabularies, without zod: the policy's evaluation runs in functions that carry no schema library
 * (the token, sweep and review functions read a policy already validated at synth time, see compiled.ts). schema.ts
 * and level-schemas.ts build their zod enums from these lists.
 */

/** Risk levels, ordered from least to most sensitive. */
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Client authentication methods Gatehouse knows, ordered from weakest to strongest. */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** Relative strength used to tell "too weak" from "not allowed". */
export const AUTH_METHOD_STRENGTH: Record<AuthMethod, number> = {
  client_secret_basic: 1,
  client_secret_post: 1,
  private_key_jwt: 2,
};

export const TIERS = ['public', 'partner', 'internal'] as const;
export type Tier = (typeof TIERS)[number];
