import { powertoolsLog } from '../adapters/aws/log.js';
import { createSigningKeyRotationHandler } from '../handlers/signing-key-rotation.js';

/** Lambda entry point of the signing-key rotation function (GATEHOUSE_KEY_PUBLISH_DELAY_SECONDS, GATEHOUSE_KEY_OVERLAP_SECONDS). */
export const handler = createSigningKeyRotationHandler({
  log: powertoolsLog(),
  publishDelaySeconds: Number(process.env['GATEHOUSE_KEY_PUBLISH_DELAY_SECONDS'] ?? 900),
  previousOverlapSeconds: Number(process.env['GATEHOUSE_KEY_OVERLAP_SECONDS'] ?? 3900),
});
