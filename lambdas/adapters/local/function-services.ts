import { FUNCTIONS, hasPort, storesFor, type FunctionName, type FunctionServices } from '../../contracts/functions.js';
import type { Mailer, Vault } from '../../core/ports.js';
import type { Services } from '../../core/services.js';

/**
 * What function `name`'s handler gets in local mode: what its Lambda entry gets from `awsServices`, read from the same
 * spec (lambdas/contracts/functions.ts): the ports of its capabilities and the table's ports with only the operations its
 * spec lists. Its mailer is the shared one with `mail:send`, and `notices` (the local consumer-notice workflow) with
 * `notice:send`.
 */
export function functionServices<N extends FunctionName>(name: N, services: Services, notices: Mailer): FunctionServices<N> {
  const spec = FUNCTIONS[name];
  const { clock, policy, config, log, metrics } = services;
  return {
    clock,
    policy,
    config,
    log,
    metrics,
    ...(hasPort(spec, 'vault') ? { vault: spec.capabilities.includes('signing-key:read') ? services.vault : publicOnly(services.vault) } : {}),
    ...(hasPort(spec, 'workflow') ? { workflow: services.workflow } : {}),
    ...(hasPort(spec, 'mailer') ? { mailer: spec.capabilities.includes('notice:send') ? notices : services.mailer } : {}),
    ...(hasPort(spec, 'linkMailer') ? { linkMailer: services.mailer } : {}),
    ...(hasPort(spec, 'clientSecrets') ? { clientSecrets: services.clientSecrets } : {}),
    ...storesFor(spec.registry ?? [], services),
  } as FunctionServices<N>;
}

/** A verify-only function's view of the vault (`signing-key:read-public`): the public halves, never a private key. */
function publicOnly(vault: Vault): Vault {
  return {
    getSigningKeys: () => Promise.reject(new Error('This function only verifies (signing-key:read-public): it holds no private signing key.')),
    getPublicKeys: () => vault.getPublicKeys(),
  };
}
