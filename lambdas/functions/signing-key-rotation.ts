import { registryTable } from '../adapters/aws/dynamo-registry.js';
import { dynamoSystemAudit } from '../adapters/aws/table/system-audit.js';
import { EmfMetrics } from '../adapters/aws/emf-metrics.js';
import { ENV } from '../adapters/aws/env.js';
import { powertoolsLog } from '../adapters/aws/log.js';
import { createSigningKeyRotationHandler } from '../handlers/signing-key-rotation.js';

const log = powertoolsLog();

/** Lambda entry point of the signing-key rotation function (GATEHOUSE_KEY_PUBLISH_DELAY_SECONDS, GATEHOUSE_KEY_OVERLAP_SECONDS; completed rotations are audited in the registry table). */
export const handler = createSigningKeyRotationHandler({
  log,
  metrics: new EmfMetrics({ log }),
  publishDelaySeconds: Number(process.env['GATEHOUSE_KEY_PUBLISH_DELAY_SECONDS'] ?? 900),
  previousOverlapSeconds: Number(process.env['GATEHOUSE_KEY_OVERLAP_SECONDS'] ?? 3900),
  audit: dynamoSystemAudit(registryTable({ tableName: process.env[ENV.tableName] ?? '' })),
  publicKeysSecretId: process.env[ENV.publicKeysSecretId] || undefined,
});
