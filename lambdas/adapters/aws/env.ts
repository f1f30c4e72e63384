/** Environment variable names shared by the stack and the AWS runtime. */
export const ENV = {
  tableName: 'GATEHOUSE_TABLE_NAME',
  signingKeySecretId: 'GATEHOUSE_SIGNING_KEY_SECRET_ID',
  stateMachineArn: 'GATEHOUSE_STATE_MACHINE_ARN',
  issuer: 'GATEHOUSE_ISSUER',
  tokenAudience: 'GATEHOUSE_TOKEN_AUDIENCE',
  softwareStatementIssuer: 'GATEHOUSE_SOFTWARE_STATEMENT_ISSUER',
  softwareStatementJwks: 'GATEHOUSE_SOFTWARE_STATEMENT_JWKS',
  consumerCacheMs: 'GATEHOUSE_CONSUMER_CACHE_MS',
  /** JSON: reviewer groups by risk, e.g. {"default": ["a@bank"], "high": ["b@bank", "c@bank"]}. */
  reviewers: 'GATEHOUSE_REVIEWERS',
} as const;

/** esbuild `define` name under which the validated policy document is compiled into every bundle. */
export const POLICY_DEFINE = '__GATEHOUSE_POLICY__';

/** Sender address of notification emails. */
export const MAIL_FROM_ENV = 'GATEHOUSE_MAIL_FROM';
