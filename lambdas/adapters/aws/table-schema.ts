/**
 * The single-table schema, defined once: CDK builds the table from it and local mode creates the same table in dynalite.
 *
 * Items (pk / sk):
 * - consumer        `CONSUMER#<client_id>` / `CONSUMER`
 * - audit event     `CONSUMER#<client_id>` / `AUDIT#<seq, 10 digits>`
 * - idempotency     `IDEMPOTENCY#<sha256(key)>` / `IDEMPOTENCY` (TTL)
 * - one-time marker `MARKER#<marker>` / `MARKER` (TTL): used assertion and DPoP `jti`s, revoked token ids
 * - review round    `REVIEW#<review_id>` / `REVIEW`: reviewers, deadline, decision and the server-side task token
 * - change request  `CONSUMER#<client_id>` / `REQUEST#<request_id>`: an exception or reinstatement under review or in force
 * - system audit    `SYSTEM#<stream>` / `AUDIT#<seq, 10 digits>`: events not about one consumer (signing-key rotations)
 * - policy rollout  `SYSTEM#policy-rollout` / `STATE`: how far sweeps got re-evaluating consumers for the deployed policy
 * - revocation      `REVOCATIONS` / `TOKEN#<jti>` or `CONSUMER#<client_id>` (TTL): what resource servers must refuse, one
 *                   small partition read whole by the function that publishes the revocation document
 * - quota counter   `QUOTA#register#<UTC day>#<sha256(caller)>` / `QUOTA` (TTL): anonymous registrations of one caller that day
 * The `attention` index is sparse: only consumers that need a future look (dormancy, expiry) carry `gsi1pk`/`gsi1sk`
 * (`ATTENTION` / `<attentionAt ISO>#<client_id>`), so a sweep queries `gsi1sk <= now` and reads only what is due.
 * The `software` index is sparse too: only consumers whose software_id a verified software statement vouched for carry
 * `statementSoftwareId`; it projects `status`, so registration counts the live consumers of one software_id with one Query.
 */
export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLiveAttribute: 'ttl',
  indexes: [
    { name: 'attention', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'ALL' },
    { name: 'software', partitionKey: 'statementSoftwareId', sortKey: 'clientId', projection: 'INCLUDE', nonKeyAttributes: ['status'] },
  ],
} as const;

export type TableSchema = typeof TABLE_SCHEMA;

/** Key builders, so no adapter spells a key by hand. */
export const keys = {
  consumer: (clientId: string) => ({ pk: `CONSUMER#${clientId}`, sk: 'CONSUMER' }),
  audit: (clientId: string, seq: number) => ({ pk: `CONSUMER#${clientId}`, sk: `AUDIT#${String(seq).padStart(10, '0')}` }),
  auditPrefix: 'AUDIT#',
  idempotency: (keyHash: string) => ({ pk: `IDEMPOTENCY#${keyHash}`, sk: 'IDEMPOTENCY' }),
  marker: (marker: string) => ({ pk: `MARKER#${marker}`, sk: 'MARKER' }),
  review: (reviewId: string) => ({ pk: `REVIEW#${reviewId}`, sk: 'REVIEW' }),
  request: (clientId: string, requestId: string) => ({ pk: `CONSUMER#${clientId}`, sk: `REQUEST#${requestId}` }),
  requestPrefix: 'REQUEST#',
  policyRollout: { pk: 'SYSTEM#policy-rollout', sk: 'STATE' },
  revokedToken: (jti: string) => ({ pk: 'REVOCATIONS', sk: `TOKEN#${jti}` }),
  revokedConsumer: (clientId: string) => ({ pk: 'REVOCATIONS', sk: `CONSUMER#${clientId}` }),
  revocationsPartition: 'REVOCATIONS',
  revokedTokenPrefix: 'TOKEN#',
  revokedConsumerPrefix: 'CONSUMER#',
  registrationQuota: (window: string, subject: string) => ({ pk: `QUOTA#register#${window}#${subject}`, sk: 'QUOTA' }),
  attention: (attentionAt: string, clientId: string) => ({ gsi1pk: 'ATTENTION', gsi1sk: `${attentionAt}#${clientId}` }),
  attentionPartition: 'ATTENTION',
  systemAudit: (stream: string, seq: number) => ({ pk: `SYSTEM#${stream}`, sk: `AUDIT#${String(seq).padStart(10, '0')}` }),
} as const;
