import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStagedSecret } from '../adapters/aws/secrets-staged-secret.js';
import { rotateClientSecret } from '../core/rotation/client-secret-rotation.js';
import type { Services } from '../core/services.js';
import { RotationEventSchema } from './rotation-event.js';


/**
 * Secrets Manager rotation function for consumers' client secrets (createSecret, setSecret, testSecret, finishSecret).
 * The secret itself says whose it is; the registry, mail and clock come from the services.
 */
export function createClientSecretRotationHandler(services: Services, client: SecretsManagerClient = new SecretsManagerClient({})): (event: unknown) => Promise<void> {
  return async (event) => {
    const e = RotationEventSchema.parse(event);
    try {
      await rotateClientSecret(e.Step, e.ClientRequestToken, new SecretsManagerStagedSecret(e.SecretId, client), services);
    } catch (error) {
      // Logged with the step so the rotation alarm has a readable cause; the value of the secret is never logged.
      services.log.error('client secret rotation step failed', { step: e.Step, version: e.ClientRequestToken, error: (error as Error).name, message: (error as Error).message });
      throw error;
    }
  };
}
