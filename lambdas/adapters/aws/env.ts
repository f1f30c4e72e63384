/** Environment variable names shared by the stack and the AWS runtime. */
export const ENV = {
  tableName: 'GATEHOUSE_TABLE_NAME',
  signingKeySecretId: 'GATEHOUSE_SIGNING_KEY_SECRET_ID',
  /** The secret holding only the public halves of the signing keys (`signing-key:read-public`; written by the seeding and rotation). */
  publicKeysSecretId: 'GATEHOUSE_PUBLIC_KEYS_SECRET_ID',
  stateMachineArn: 'GATEHOUSE_STATE_MACHINE_ARN',
  /** The consumer-notice state machine (`notice:send`). */
  noticeStateMachineArn: 'GATEHOUSE_NOTICE_STATE_MACHINE_ARN',
  issuer: 'GATEHOUSE_ISSUER',
  tokenAudience: 'GATEHOUSE_TOKEN_AUDIENCE',
  softwareStatementIssuer: 'GATEHOUSE_SOFTWARE_STATEMENT_ISSUER',
  softwareStatementJwks: 'GATEHOUSE_SOFTWARE_STATEMENT_JWKS',
  consumerCacheMs: 'GATEHOUSE_CONSUMER_CACHE_MS',
  /** RFC 8414 `service_documentation` URL; unset, the metadata has none. */
  serviceDocumentation: 'GATEHOUSE_SERVICE_DOCUMENTATION',
  /** JSON: reviewer groups by risk, e.g. {"default": ["a@bank"], "high": ["b@bank", "c@bank"]}. */
  reviewers: 'GATEHOUSE_REVIEWERS',
  /** JSON: the operator table, e.g. [{"email": "alice@bank", "principals": ["arn:aws:iam::123456789012:user/alice"]}]. */
  operators: 'GATEHOUSE_OPERATORS',
  /** Client secrets are Secrets Manager secrets named `<prefix><client_id>`. */
  clientSecretPrefix: 'GATEHOUSE_CLIENT_SECRET_PREFIX',
  /** The customer-managed KMS key client secrets are created under. */
  clientSecretKeyId: 'GATEHOUSE_CLIENT_SECRET_KEY_ID',
  /** The rotation function Secrets Manager runs on each client secret. */
  clientSecretRotationArn: 'GATEHOUSE_CLIENT_SECRET_ROTATION_ARN',
} as const;

/** esbuild `define` name under which the validated policy document is compiled into every bundle. */
export const POLICY_DEFINE = '__GATEHOUSE_POLICY__';

/**
 * Where the functions publish their metrics (Powertools reads it): the stack's own namespace, `Gatehouse/<stack name>`
 * (stackMetricsNamespace in lambdas/core/metrics.ts). The `service` dimension is POWERTOOLS_SERVICE_NAME.
 */
export const METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/** Sender address of notification emails. */
export const MAIL_FROM_ENV = 'GATEHOUSE_MAIL_FROM';
