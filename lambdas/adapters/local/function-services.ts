import type { Capability, FunctionSpec } from '../../contracts/functions.js';
import type { Mailer, Vault } from '../../core/ports.js';
import type { Services } from '../../core/services.js';
import type { TableRegistry } from '../aws/dynamo-operations.js';
import { registryView } from '../aws/dynamo-registry.js';
import { absentPort } from '../aws/services.js';

/** The ports a function's capabilities give it (lambdas/contracts/functions.ts): the same rule each Lambda entry follows with `awsServices`. */
export const PORT_CAPABILITIES: Readonly<Record<'registry' | 'vault' | 'workflow' | 'mailer' | 'clientSecrets', (capability: Capability) => boolean>> = {
  registry: (c) => c.startsWith('table:'),
  vault: (c) => c === 'signing-key:read' || c === 'signing-key:read-public',
  workflow: (c) => c.startsWith('workflow:'),
  mailer: (c) => c === 'mail:send' || c === 'notice:send',
  clientSecrets: (c) => c.startsWith('client-secrets:'),
};

/**
 * What one function's handler gets in local mode: the ports its capabilities allow (any other fails loudly when called,
 * as in its Lambda) and a registry with only the operations its spec lists, which are all the stack lets its role send
 * (a spec with a table and no list keeps the whole registry, as its grants would). Its mailer is the shared one with
 * `mail:send`, and `notices` (the local consumer-notice workflow) with `notice:send`.
 * So a handler that reached for more than its function has fails here, in tests over real HTTP, not first in AWS.
 */
export function functionServices(
  spec: FunctionSpec,
  services: Services & { readonly registry: TableRegistry },
  notices: Mailer,
): Services & { readonly registry: TableRegistry } {
  const has = (port: keyof typeof PORT_CAPABILITIES) => spec.capabilities.some(PORT_CAPABILITIES[port]);
  return {
    ...services,
    registry: !has('registry') ? absentPort<TableRegistry>('registry') : spec.registry ? registryView(services.registry, spec.registry) : services.registry,
    vault: spec.capabilities.includes('signing-key:read') ? services.vault : has('vault') ? publicOnly(services.vault) : absentPort('signing-key'),
    workflow: has('workflow') ? services.workflow : absentPort('workflow'),
    mailer: spec.capabilities.includes('notice:send') ? notices : has('mailer') ? services.mailer : absentPort('mail:send'),
    clientSecrets: has('clientSecrets') ? services.clientSecrets : absentPort('client-secrets'),
  };
}

/** A verify-only function's view of the vault (`signing-key:read-public`): the public halves, never a private key. */
function publicOnly(vault: Vault): Vault {
  return {
    getSigningKeys: () => Promise.reject(new Error('This function only verifies (signing-key:read-public): it holds no private signing key.')),
    getPublicKeys: () => vault.getPublicKeys(),
  };
}
