import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerPublicKeyStore } from '../adapters/aws/secrets-public-keys.js';
import { SecretsManagerStagedSecret } from '../adapters/aws/secrets-staged-secret.js';
import { withLogKeys } from '../core/log-context.js';
import type { Metrics } from '../core/metrics.js';
import { rotateSigningKey } from '../core/rotation/signing-key-rotation.js';
import { RotationEventSchema } from './rotation-event.js';
import type { Clock, SystemAuditLog } from '../core/ports.js';
import type { Log } from '../core/services.js';

export interface SigningKeyRotationOptions {
  readonly client?: SecretsManagerClient;
  readonly clock?: Clock;
  readonly log: Log;
  /** Where rotation outcomes are counted (`SecretRotations`, kind `signing_key`); flushed at the end of every step. */
  readonly metrics: Metrics;
  /** Where completed rotations are recorded (the registry's `signing-key` system audit stream). */
  readonly audit?: SystemAuditLog;
  /** The secret the public halves are mirrored to for verify-only functions. @default - none mirrored */
  readonly publicKeysSecretId?: string;
  /** @default 900 seconds (JWKS cache max-age plus resource servers' key cache) */
  readonly publishDelaySeconds?: number;
  /** @default 3900 seconds (the default policy's longest token lifetime, 1 h, plus 5 min) */
  readonly previousOverlapSeconds?: number;
}

/**
 * Secrets Manager rotation function for the token-signing key (createSecret, setSecret, testSecret, finishSecret). A
 * rotation counts as a success when its finishSecret step completes and as a failure at any step that fails; its log lines
 * carry the rotation's version id as `correlation_id`.
 */
export function createSigningKeyRotationHandler(options: SigningKeyRotationOptions): (event: unknown) => Promise<void> {
  for (const [name, value] of [
    ['publishDelaySeconds', options.publishDelaySeconds],
    ['previousOverlapSeconds', options.previousOverlapSeconds],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new Error(`${name} must be a non-negative number of seconds, got ${value}`);
  }
  const client = options.client ?? new SecretsManagerClient({});
  const clock = options.clock ?? { now: () => new Date() };
  const { metrics } = options;
  return async (event) => {
    const e = RotationEventSchema.parse(event);
    await withLogKeys({ correlation_id: e.ClientRequestToken }, async () => {
      try {
        await rotateSigningKey(e.Step, e.ClientRequestToken, {
          secret: new SecretsManagerStagedSecret(e.SecretId, client),
          now: clock.now(),
          publishDelayMs: (options.publishDelaySeconds ?? 900) * 1000,
          previousOverlapMs: (options.previousOverlapSeconds ?? 3900) * 1000,
          log: options.log,
          audit: options.audit,
          publicKeys: options.publicKeysSecretId ? new SecretsManagerPublicKeyStore(options.publicKeysSecretId, client) : undefined,
        });
        if (e.Step === 'finishSecret') metrics.record('SecretRotations', { kind: 'signing_key', outcome: 'success' });
      } catch (error) {
        metrics.record('SecretRotations', { kind: 'signing_key', outcome: 'failure' });
        throw error;
      } finally {
        metrics.flush();
      }
    });
  };
}
