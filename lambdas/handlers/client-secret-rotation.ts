import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStagedSecret } from '../adapters/aws/secrets-staged-secret.js';
import { withLogKeys } from '../core/log-context.js';
import { rotateClientSecret } from '../core/rotation/client-secret-rotation.js';
import type { Needs } from '../core/services.js';
import { RotationEventSchema } from './rotation-event.js';

/**
 * Secrets Manager rotation function for consumers' client secrets (createSecret, setSecret, testSecret, finishSecret).
 * The secret itself says whose it is; the registry, mail and clock come from the services. A rotation counts as a success
 * when its finishSecret step completes, and as a failure at any step that fails; its log lines carry the rotation's
 * version id as `correlation_id`, so its four invocations read as one.
 */
export function createClientSecretRotationHandler(
  services: Needs<'getConsumer' | 'updateConsumer', 'mailer'>,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): (event: unknown) => Promise<void> {
  return async (event) => {
    const e = RotationEventSchema.parse(event);
    await withLogKeys({ correlation_id: e.ClientRequestToken }, async () => {
      try {
        await rotateClientSecret(e.Step, e.ClientRequestToken, new SecretsManagerStagedSecret(e.SecretId, client), services);
        if (e.Step === 'finishSecret') services.metrics.record('SecretRotations', { kind: 'client_secret', outcome: 'success' });
      } catch (error) {
        services.metrics.record('SecretRotations', { kind: 'client_secret', outcome: 'failure' });
        // Logged with the step so the rotation alarm has a readable cause; the value of the secret is never logged.
        services.log.error('client secret rotation step failed', {
          step: e.Step,
          version: e.ClientRequestToken,
          error: (error as Error).name,
          message: (error as Error).message,
        });
        throw error;
      } finally {
        services.metrics.flush();
      }
    });
  };
}
